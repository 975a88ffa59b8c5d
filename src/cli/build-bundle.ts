// Build step (package.json "bundle"): the CLI (commands.ts and everything it imports, lazily imported
// modules included) and the fit thread each become one ES module file, beside the modules they come
// from; main.ts and fit-runner.ts load them (src/bundled.ts).
//
// Why: Node's ESM loader resolves, reads, compiles and links each module separately, ~0.5–1 ms apiece;
// a rank of the grid search loaded ~130 (the 2-rank job: ~90 ms less CPU, ~50 ms less wall). ES modules
// rather than CommonJS: top-level await and import.meta stay as they are (no code cache, which Node 20
// only offers scripts — the libp2p stack, the big one, has its own CommonJS bundle and cache).
//
// Each module's import.meta.url is rewritten to its own compiled file's URL (relative to the bundle),
// so the files it finds beside itself (worker scripts, data, the libp2p bundle, createRequire) are
// the same as when it loads unbundled. The libp2p stack's entry stays outside: it is only the
// fallback when its own bundle is missing.
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ENTRIES = [
  { entry: `${here}/commands.js`, bundle: `${here}/commands.bundle.mjs` },
  { entry: `${here}/../search/fit-thread.js`, bundle: `${here}/../search/fit-thread.bundle.mjs` },
];
const OUTSIDE = /\/mesh\/libp2p-stack-entry\.js$/;

const fromBundle = (bundle: string, file: string): string => {
  const rel = relative(dirname(bundle), file);
  return rel.startsWith('.') ? rel : `./${rel}`;
};

function sameUrls(bundle: string): Plugin {
  return {
    name: 'commune-module-urls',
    setup(b) {
      b.onResolve({ filter: /libp2p-stack-entry\.js$/ }, (args) => {
        const file = resolve(args.resolveDir, args.path);
        return OUTSIDE.test(file) ? { path: fromBundle(bundle, file), external: true } : undefined;
      });
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url') || args.path.includes('/node_modules/')) return { contents: source, loader: 'js' };
        const url = `new URL(${JSON.stringify(fromBundle(bundle, args.path))}, import.meta.url).href`;
        return { contents: source.replaceAll('import.meta.url', url), loader: 'js' };
      });
    },
  };
}

for (const { entry, bundle } of ENTRIES) {
  await build({
    entryPoints: [entry], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    sourcemap: true, logLevel: 'warning', plugins: [sameUrls(bundle)],
    // CommonJS packages inside an ES module bundle call require(): give them Node's.
    banner: { js: "import { createRequire as __communeRequire } from 'node:module'; const require = __communeRequire(import.meta.url);" },
  });
  process.stderr.write(`build-bundle: ${relative(process.cwd(), bundle)}\n`);
}
