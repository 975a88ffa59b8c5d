import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { trainedCacheFiles } from '../../src/cached-script.js';
import { BUNDLE, CODE_CACHE, stack } from '../../src/mesh/libp2p-stack.js';

// The build bundles the libp2p stack and trains V8's code cache for it on the build's Node
// (libp2p-stack.ts, src/cached-script.ts): these tests pin that a built tree uses that cache on the
// build's V8, Node's own compile cache on other versions that have one, and that a cache V8 will not
// take only costs the compile. This suite also runs on other Node versions than the build's (CI).

const STACK_URL = new URL('../../src/mesh/libp2p-stack.js', import.meta.url).href;
const probe = `const m = await import(${JSON.stringify(STACK_URL)}); console.log(JSON.stringify({ cache: m.stack.cache, key: typeof m.privateKeyFromRaw }));`;
const OTHER_VERSIONS_CACHE = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function' ? 'node' : 'none';

describe('mesh: the bundled libp2p stack and its code cache', function () {
  before(function () {
    if (!existsSync(BUNDLE)) { console.log(`      skipped: ${BUNDLE} is missing — this tree was compiled with tsc alone; \`npm run build\` makes it and its code cache`); this.skip(); } // skipped: reason printed
  });

  it('loads from the bundle with the trained cache on the build\'s V8, else with Node\'s compile cache where Node has one', () => {
    assert.ok(trainedCacheFiles(BUNDLE).length > 0, 'the build trained a code cache');
    if (existsSync(CODE_CACHE)) {
      assert.ok(stack.script, 'loaded as one script');
      assert.equal(stack.cache, 'trained', 'the trained code cache was accepted');
    } else {
      assert.equal(stack.cache, OTHER_VERSIONS_CACHE, `V8 ${process.versions.v8} is not the build's (${trainedCacheFiles(BUNDLE).join(', ')})`);
    }
  });

  it('a process whose V8 flags differ from the build\'s has the cache rejected and still loads the stack', () => {
    const r = spawnSync(process.execPath, ['--no-opt', '--input-type=module', '-e', probe], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { cache: existsSync(CODE_CACHE) ? 'none' : OTHER_VERSIONS_CACHE, key: 'function' });
  });
});
