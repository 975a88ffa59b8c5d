// One job, one rank per Node.js version (at least three) (a cluster where nodes load different modules, or a
// user's laptop against the cluster's): every version must derive the same peer id for every rank
// (identity.ts), and a mixed world must run collectives and the grid search with the same results.
// The other versions' binaries are the npm registry's node-<platform>-<arch> packages, which
// `npm run test:node-versions` installs into .node-versions/ (COMMUNE_TEST_NODES overrides the list).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unsupportedNode } from '../../src/node-version.js';
import { scorersWithoutTimings } from '../support/digest.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const IDENTITY = new URL('../../src/mesh/identity.js', import.meta.url).href;
const FIXTURE = join(ROOT, 'dist', 'test', 'fixtures', 'collective-rank.js');

function versionOf(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** This process's Node first, then one binary per other supported major found. */
function nodeBinaries(): { bin: string; version: string }[] {
  const listed = process.env.COMMUNE_TEST_NODES?.split(delimiter).filter(Boolean);
  const installed = join(ROOT, '.node-versions');
  const found = listed ?? (existsSync(installed) ? readdirSync(installed).flatMap((v) => {
    const pkgs = join(installed, v, 'node_modules');
    return existsSync(pkgs) ? readdirSync(pkgs).filter((p) => p.startsWith('node-')).map((p) => join(pkgs, p, 'bin', 'node')) : [];
  }) : []);
  const byMajor = new Map<string, { bin: string; version: string }>([[process.version.split('.')[0], { bin: process.execPath, version: process.version }]]);
  for (const bin of found) {
    const version = versionOf(bin);
    if (version && !unsupportedNode(version) && !byMajor.has(version.split('.')[0])) byMajor.set(version.split('.')[0], { bin, version });
  }
  return [...byMajor.values()];
}

/** `commune launch -n <versions>` with rank r's command run by nodes[r]. */
function launchMixed(nodes: { bin: string }[], args: string[]): { code: number | null; stdout: string; stderr: string } {
  const cases = nodes.map((n, r) => `${r}) exec ${JSON.stringify(n.bin)} "$@";;`).join(' ');
  const r = spawnSync(process.execPath, [MAIN, 'launch', '-n', String(nodes.length), '--', 'sh', '-c', `case "$COMMUNE_RANK" in ${cases} esac`, 'sh', ...args], {
    encoding: 'utf8', timeout: 110_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mesh: one job, one rank per Node.js version', function () {
  this.timeout(120_000);
  const nodes = nodeBinaries();
  let dir = '';
  before(function () {
    if (nodes.length < 3) {
      console.log(`      skipped: found Node ${nodes.map((n) => n.version).join(', ')} only; \`npm run test:node-versions\` installs two more majors into .node-versions/ (or set COMMUNE_TEST_NODES)`);
      this.skip(); // skipped: reason printed
    }
    console.log(`      ranks on ${nodes.map((n) => n.version).join(', ')}`);
    dir = mkdtempSync(join(tmpdir(), 'commune-node-versions-'));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('every version derives the same peer id for every rank', () => {
    const script = `const { rankPeerId } = await import(${JSON.stringify(IDENTITY)});
const ids = []; for (let r = 0; r < 16; r++) ids.push((await rankPeerId('mixed-versions-secret', r)).toString());
console.log(JSON.stringify(ids));`;
    const lists = nodes.map(({ bin }) => {
      const r = spawnSync(bin, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${bin}: ${r.stderr}`);
      return JSON.parse(r.stdout) as string[];
    });
    assert.equal(new Set(lists[0]).size, 16, 'distinct ids for distinct ranks');
    for (const l of lists.slice(1)) assert.deepEqual(l, lists[0]);
  });

  it('collectives across the versions give every rank the same results', () => {
    const r = launchMixed(nodes, [FIXTURE, 'run']);
    assert.equal(r.code, 0, r.stderr);
    const results = [...r.stdout.matchAll(/^\[\d+\] RESULT (.*)$/gm)].map((m) => JSON.parse(m[1]) as Record<string, unknown>)
      .sort((a, b) => (a.rank as number) - (b.rank as number));
    assert.equal(results.length, nodes.length, r.stdout + r.stderr);
    assert.deepEqual(results.map((x) => x.version), nodes.map((n) => n.version), 'each rank ran on its own version');
    for (const x of results) {
      assert.equal(x.ok, true);
      assert.equal(x.identical, true);
      assert.deepEqual(x.ag, nodes.map((_, q) => `r${q}`));
      assert.equal(x.rep, results[0].rep);
    }
  });

  it('the grid search across the versions gives the single-process results', () => {
    const mixed = launchMixed(nodes, [MAIN, 'gridsearch', '--quiet', '--json', join(dir, 'mixed.json')]);
    assert.equal(mixed.code, 0, mixed.stderr);
    const single = spawnSync(process.execPath, [MAIN, 'gridsearch', '--ranks', '1', '--quiet', '--json', join(dir, 'single.json')], { encoding: 'utf8' });
    assert.equal(single.status, 0, single.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, 'mixed.json'), 'utf8')).ranks, nodes.length);
    assert.deepStrictEqual(scorersWithoutTimings(join(dir, 'mixed.json')), scorersWithoutTimings(join(dir, 'single.json')));
  });
});
