import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { preferBundle } from '../src/bundled.js';
import module from 'node:module';
import { codeCacheOf, compileCachedScript, runCachedScript, saveCodeCache, trainedCacheFiles } from '../src/cached-script.js';

const NODE_COMPILE_CACHE = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

// The CLI and the fit thread load from bundles the build makes (src/cli/build-bundle.ts) when those
// are at least as new as the compiled modules (src/bundled.ts); a plain tsc rebuild falls back to the
// modules, so a stale bundle never runs. The CLI bundle comes with a V8 code cache from a training run.

describe('bundles: which file an entry loads', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'commune-bundled-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, mtimeS: number): URL => {
    const p = join(dir, name);
    writeFileSync(p, '');
    utimesSync(p, mtimeS, mtimeS);
    return pathToFileURL(p);
  };

  it('the bundle when it is as new as the module or newer; the module when the bundle is older or missing', () => {
    const module = file('m.js', 1_000_000);
    assert.equal(preferBundle(module, file('newer.mjs', 1_000_010)).pathname, join(dir, 'newer.mjs'));
    assert.equal(preferBundle(module, file('same.mjs', 1_000_000)).pathname, join(dir, 'same.mjs'));
    assert.equal(preferBundle(module, file('older.mjs', 999_990)).pathname, join(dir, 'm.js'));
    assert.equal(preferBundle(module, pathToFileURL(join(dir, 'absent.mjs'))).pathname, join(dir, 'm.js'));
  });

  it('a trained code cache is used only when it is at least as new as its bundle (V8 checks only the length)', () => {
    const bundle = join(dir, 'b.cjs');
    writeFileSync(bundle, 'module.exports = function f() { return 1; };');
    utimesSync(bundle, 1_000_000, 1_000_000);
    const first = compileCachedScript(bundle)!;
    first.script.runInThisContext();
    saveCodeCache(first.script, bundle);
    assert.equal(compileCachedScript(bundle)?.cacheUsed, true);
    // Same length, other text, written after the cache: the cache is ignored and the new text runs.
    writeFileSync(bundle, 'module.exports = function f() { return 2; };');
    utimesSync(bundle, Date.now() / 1000 + 10, Date.now() / 1000 + 10);
    const again = runCachedScript<() => number>(bundle)!;
    assert.notEqual(again.cache, 'trained');
    assert.equal(again.exports(), 2);
  });

  it('a trained cache is named after the V8 that made it, so another Node version never reads it', () => {
    const bundle = join(dir, 'v.cjs');
    writeFileSync(bundle, 'module.exports = 3;');
    assert.equal(codeCacheOf(bundle), join(dir, `v.v8-${process.versions.v8}.v8cache`));
    writeFileSync(join(dir, 'v.v8-0.0.0.0.v8cache'), 'another V8\'s cache');
    assert.deepEqual(trainedCacheFiles(bundle), [join(dir, 'v.v8-0.0.0.0.v8cache')]);
    const loaded = runCachedScript<number>(bundle)!;
    assert.equal(loaded.exports, 3);
    assert.equal(loaded.cache, NODE_COMPILE_CACHE ? 'node' : 'none');
  });

  it('without a trained cache for its V8, a process uses Node\'s module compile cache (Node ≥ 22.1), and the next process finds it there', function () {
    if (!NODE_COMPILE_CACHE) { console.log(`      skipped: Node ${process.version} has no module.enableCompileCache (added in 22.1)`); this.skip(); } // skipped: reason printed
    const bundle = join(dir, 'n.cjs');
    writeFileSync(bundle, 'module.exports = function g(x) { return x + 1; };');
    const cacheDir = join(dir, 'node-compile-cache');
    const probe = `import { runCachedScript } from ${JSON.stringify(new URL('../src/cached-script.js', import.meta.url).href)};
const r = runCachedScript(${JSON.stringify(bundle)}); console.log(JSON.stringify({ cache: r.cache, value: r.exports(1) }));`;
    const run = () => spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8', env: { ...process.env, NODE_COMPILE_CACHE: cacheDir, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { cache: 'node', value: 2 });
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`cache for (CommonJS )?${bundle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was accepted`));
  });

  describe('in this build', function () {
    const pairs = [['../src/cli/commands.js', '../src/cli/commands.bundle.cjs'], ['../src/search/fit-thread.js', '../src/search/fit-thread.bundle.mjs'], ['../src/index.js', '../src/index.bundle.mjs']]
      .map(([m, b]) => [new URL(m, import.meta.url), new URL(b, import.meta.url)] as const);
    before(function () {
      const missing = pairs.find(([, b]) => !existsSync(b));
      const stale = pairs.find(([m, b]) => preferBundle(m, b) !== b);
      const why = missing ? `${missing[1].pathname} is missing` : stale ? `${stale[1].pathname} is older than ${stale[0].pathname}` : undefined;
      if (why) { console.log(`      skipped: ${why} — this tree was last compiled with tsc alone; \`npm run build\` bundles it`); this.skip(); } // skipped: reason printed
    });

    it('V8 takes the CLI bundle\'s code cache (same source, same V8 and flags as the training run)', function () {
      const file = fileURLToPath(pairs[0][1]);
      const trained = trainedCacheFiles(file);
      assert.ok(trained.length > 0, `the build trained a code cache for ${file}`);
      if (!existsSync(codeCacheOf(file))) { console.log(`      skipped: this tree was built by another Node version (its cache: ${trained.join(', ')}); Node ${process.version} loads it through Node's compile cache`); this.skip(); } // skipped: reason printed
      // Compiled as main.ts runs it, but not run (that would run the CLI in this process).
      assert.equal(compileCachedScript(file)?.cacheUsed, true);
    });

    it('`import … from \'commune\'` loads the library bundle, which exports what src/index.ts does, and commune/compat shares its classes', () => {
      // Evaluated with the repository as its directory: the package imports itself by name, as a script in it would.
      const probe = `import * as lib from 'commune'; import * as compat from 'commune/compat';
import * as modules from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
const names = (m) => Object.keys(m).sort().join(',');
console.log(JSON.stringify({ entry: import.meta.resolve('commune'), sameExports: names(lib) === names(modules), count: Object.keys(lib).length,
  oneClass: new compat.CancelledError(['x']) instanceof lib.CommuneError, notTheModules: lib.CommuneError !== modules.CommuneError }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', cwd: fileURLToPath(new URL('../../', import.meta.url)) });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { entry: string; sameExports: boolean; count: number; oneClass: boolean; notTheModules: boolean };
      assert.match(got.entry, /\/dist\/src\/index\.bundle\.mjs$/);
      assert.ok(got.sameExports && got.count > 10, 'the bundle exports what src/index.ts exports');
      assert.ok(got.notTheModules, 'the entry is the bundle, not the compiled modules');
      assert.ok(got.oneClass, 'an error from commune/compat is an instance of commune\'s CommuneError');
    });

    it('the bundled CLI runs', () => {
      const r = spawnSync(process.execPath, [new URL('../src/cli/main.js', import.meta.url).pathname, 'hostlist', 'n[1-3]'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'n1\nn2\nn3\n');
    });
  });
});
