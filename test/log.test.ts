import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// rankLogger loads pino with the first line written at an enabled level (log.ts): a quiet rank never
// loads it, and every line still carries the rank and goes to stderr. Each case is a fresh process,
// since this one has pino loaded already.

const LOG_URL = new URL('../src/log.js', import.meta.url).href;
function probe(level: string | undefined, calls: string): { pinoLoaded: boolean; stderr: string; status: number | null } {
  const code = `import { createRequire } from 'node:module';
const { rankLogger } = await import(${JSON.stringify(LOG_URL)});
const log = rankLogger(3, 'probe');
${calls}
const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/pino/'));
console.log(JSON.stringify({ loaded }));`;
  const env = { ...process.env };
  delete env.COMMUNE_LOG_LEVEL;
  if (level !== undefined) env.COMMUNE_LOG_LEVEL = level;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env });
  return { pinoLoaded: r.status === 0 && JSON.parse(r.stdout).loaded, stderr: r.stderr, status: r.status };
}

describe('log: rankLogger', () => {
  it('at the default level (warn), debug and info lines load nothing and write nothing', () => {
    const r = probe(undefined, `log.debug({ x: 1 }, 'hidden'); log.info('hidden'); if (log.isLevelEnabled('debug')) throw new Error('debug enabled');`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.pinoLoaded, false);
    assert.equal(r.stderr, '');
  });

  it('a warning loads pino and writes one JSON line to stderr with the rank and component', () => {
    const r = probe(undefined, `log.debug('hidden'); log.warn({ lost: [1] }, 'ranks lost');`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.pinoLoaded, true);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    const line = JSON.parse(lines[0]);
    assert.equal(line.msg, 'ranks lost');
    assert.equal(line.rank, 3);
    assert.equal(line.component, 'probe');
    assert.deepEqual(line.lost, [1]);
  });

  it('COMMUNE_LOG_LEVEL=debug enables debug lines', () => {
    const r = probe('debug', `if (!log.isLevelEnabled('debug')) throw new Error('debug disabled'); log.debug({ phase: 'x' }, 'phase'); log.trace('hidden');`);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.msg, l.phase, l.rank]), [['phase', 'x', 3]]);
  });

  it('an unknown COMMUNE_LOG_LEVEL is refused by pino at the first logger, as before', () => {
    const r = probe('loud', '');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /loud/);
  });
});
