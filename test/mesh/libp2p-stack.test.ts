import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BUNDLE, CODE_CACHE, stack } from '../../src/mesh/libp2p-stack.js';

// The build bundles the libp2p stack and saves V8's code cache for it (libp2p-stack.ts); these tests
// pin that a built tree uses both, and that a cache V8 will not take only costs the compile.

const STACK_URL = new URL('../../src/mesh/libp2p-stack.js', import.meta.url).href;
const probe = `const m = await import(${JSON.stringify(STACK_URL)}); console.log(JSON.stringify({ bundle: Boolean(m.stack.script), cache: m.stack.cacheUsed, key: typeof m.generateKeyPairFromSeed }));`;

describe('mesh: the bundled libp2p stack and its code cache', function () {
  before(function () {
    const missing = [BUNDLE, CODE_CACHE].find((f) => !existsSync(f));
    if (missing) { console.log(`      skipped: ${missing} is missing — this tree was compiled with tsc alone; \`npm run build\` makes both`); this.skip(); } // skipped: reason printed
  });

  it('loads from the bundle and V8 takes the saved code cache', () => {
    assert.ok(stack.script, 'loaded from the bundle');
    assert.equal(stack.cacheUsed, true, 'the code cache was accepted');
  });

  it('a process whose V8 flags differ from the build\'s has the cache rejected and still loads the stack', () => {
    const r = spawnSync(process.execPath, ['--no-opt', '--input-type=module', '-e', probe], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { bundle: true, cache: false, key: 'function' });
  });
});
