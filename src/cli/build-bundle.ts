// Build step (package.json "bundle"): the CLI (commands.ts and everything it imports, lazily imported
// modules included) becomes one CommonJS file with a V8 code cache, and the fit thread one ES module
// file, each beside the modules it comes from; main.ts and fit-runner.ts load them (src/bundled.ts).
// The library's entry (`import … from 'commune'`, package.json "exports") becomes one ES module file
// too: every rank of a user's job loads it, so at hundreds of ranks per node its load time is most of
// the start-up's CPU above the bare Node processes. commune/compat imports the flat runtime through
// the same entry, so a process that uses both holds one copy of its classes (instanceof holds).
//
// Why: Node's ESM loader resolves, reads, compiles and links each module separately, ~0.5–1 ms apiece;
// a rank of the grid search loaded ~130 (the 2-rank job: ~90 ms less CPU, ~50 ms less wall as one ES
// module). CommonJS for the CLI because Node 20 caches compiled code only for scripts
// (src/cached-script.ts): the build then runs a 2-rank grid search whose rank 0 saves the cache.
// The fit thread stays an ES module (a worker's entry; its code is mostly what V8 optimizes anyway).
//
// Each module's import.meta.url is rewritten to its own compiled file's URL (relative to the bundle),
// so the files it finds beside itself (worker scripts, data, the libp2p bundle, createRequire) are
// the same as when it loads unbundled. The libp2p stack's entry stays outside: it is only the
// fallback when the libp2p bundle is missing, which the CLI bundle does not support (no top-level
// await in CommonJS): it says so.
import { spawnSync } from 'node:child_process';
import { build, type Plugin } from 'esbuild';
import { existsSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheOf, trainedCacheFiles, TRAIN_VARIABLE } from '../cached-script.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = { entry: `${here}/commands.js`, bundle: `${here}/commands.bundle.cjs`, format: 'cjs' as const };
const FIT_THREAD = { entry: `${here}/../search/fit-thread.js`, bundle: `${here}/../search/fit-thread.bundle.mjs`, format: 'esm' as const };
const LIBRARY = { entry: resolve(here, '../index.js'), bundle: resolve(here, '../index.bundle.mjs'), format: 'esm' as const };
const STACK_FALLBACK = "await import('./libp2p-stack-entry.js')";

const fromBundle = (bundle: string, file: string): string => {
  const rel = relative(dirname(bundle), file);
  return rel.startsWith('.') ? rel : `./${rel}`;
};

function sameUrls(bundle: string, format: 'cjs' | 'esm'): Plugin {
  // In CommonJS, import.meta is empty: the bundle's own URL comes from __filename (see the banner).
  const base = format === 'cjs' ? '__communeBundleUrl' : 'import.meta.url';
  return {
    name: 'commune-module-urls',
    setup(b) {
      b.onResolve({ filter: /libp2p-stack-entry\.js$/ }, (args) => ({ path: fromBundle(bundle, resolve(args.resolveDir, args.path)), external: true }));
      // compat reaches the flat runtime through the package's own name; inside a bundle, the module itself.
      b.onResolve({ filter: /^commune$/ }, () => ({ path: LIBRARY.entry }));
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        let source = await readFile(args.path, 'utf8');
        if (args.path.includes('/node_modules/')) return { contents: source, loader: 'js' };
        if (format === 'cjs' && args.path.endsWith('/mesh/libp2p-stack.js')) {
          if (!source.includes(STACK_FALLBACK)) throw new Error(`${args.path}: its fallback import changed; update build-bundle.ts`);
          source = source.replace(STACK_FALLBACK, "(() => { throw new Error(`${BUNDLE} is missing: run npm run build`); })()");
        }
        source = source.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle(bundle, args.path))}, ${base}).href`);
        return { contents: source, loader: 'js' };
      });
    },
  };
}

for (const { entry, bundle, format } of [CLI, FIT_THREAD, LIBRARY]) {
  await build({
    entryPoints: [entry], outfile: bundle, bundle: true, platform: 'node', format, target: 'node20',
    sourcemap: true, logLevel: 'warning', plugins: [sameUrls(bundle, format)],
    banner: {
      js: format === 'cjs'
        // ES modules are strict; so is their CommonJS bundle.
        ? "'use strict'; const __communeBundleUrl = require('node:url').pathToFileURL(__filename).href;"
        // CommonJS packages inside an ES module bundle call require(): give them Node's.
        : "import { createRequire as __communeRequire } from 'node:module'; const require = __communeRequire(import.meta.url);",
    },
  });
  // The CLI bundle runs as a vm.Script (src/cached-script.ts), where import() has no loader and throws
  // ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING — only when reached (a lazily imported builtin once failed
  // only under multi-node Slurm). esbuild turns the bundled modules' import() into require(); what is
  // left is an external one: refuse it here, not on a cluster.
  if (format === 'cjs' && /\bimport\(/.test(await readFile(bundle, 'utf8'))) {
    process.stderr.write(`build-bundle: ${relative(process.cwd(), bundle)} contains a dynamic import() of a module outside the bundle (a builtin?); it would throw when reached: import it statically\n`);
    process.exit(1);
  }
  process.stderr.write(`build-bundle: ${relative(process.cwd(), bundle)}\n`);
}

// Training: a real 2-rank grid search; its rank 0 saves the CLI bundle's code cache at exit.
// The previous caches go first, every Node version's: a failed training run must leave none behind,
// and they were trained on the previous bundle.
const cache = codeCacheOf(CLI.bundle);
for (const f of trainedCacheFiles(CLI.bundle)) rmSync(f, { force: true });
const r = spawnSync(process.execPath, [`${here}/main.js`, 'gridsearch', '--ranks', '2', '--quiet'], {
  env: { ...process.env, [TRAIN_VARIABLE]: '1' }, encoding: 'utf8', timeout: 300_000,
});
if (r.status !== 0 || !existsSync(cache)) {
  process.stderr.write(`build-bundle: the training run of ${relative(process.cwd(), CLI.bundle)} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stderr}`);
  process.exit(1);
}
process.stderr.write(`build-bundle: ${relative(process.cwd(), cache)} (${(statSync(cache).size / 1024).toFixed(0)} KiB, from a 2-rank grid search)\n`);
