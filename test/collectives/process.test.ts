import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// Real rank processes started by `commune launch` (--keep-going: a killed rank must not make the
// launcher stop the survivors before they report).
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const fixture = join(root, 'dist', 'test', 'fixtures', 'collective-rank.js');

interface Launched { code: number | null; results: Record<string, unknown>[]; stderr: string }

function launch(p: number, args: string[], env: Record<string, string> = {}): Promise<Launched> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'launch', '-n', String(p), '--keep-going', '--', process.execPath, fixture, ...args], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const results: Record<string, unknown>[] = [];
    let stderr = '';
    let buf = '';
    const stopped = new Set<number>();
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^\[\d+\] (RESULT|PID) (.*)$/.exec(line);
        if (m?.[1] === 'RESULT') results.push(JSON.parse(m[2]));
        if (m?.[1] === 'PID') stopped.add(Number(m[2]));
        // A SIGSTOPped rank holds the launch open: once every other rank has reported, end it.
        if (args[0] === 'stop' && results.length === p - 1) for (const pid of stopped) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, results, stderr }));
  });
}

describe('collectives: real rank processes via commune launch', function () {
  this.timeout(60000);

  const agreeAcross = (p: number) => async (): Promise<void> => {
    const { code, results, stderr } = await launch(p, ['run']);
    assert.equal(results.length, p, `expected ${p} results; exit ${code}; stderr:\n${stderr}`);
    assert.equal(code, 0, stderr);
    const byRank = results.sort((a, b) => (a.rank as number) - (b.rank as number));
    for (const r of byRank) {
      assert.equal(r.size, p);
      assert.equal(r.ok, true);
      assert.equal(r.identical, true);
      assert.equal(r.big, String(p * (p - 1) / 2 - p));
      assert.deepEqual(r.bcast, { from: p - 1, data: [7, 8] });
      assert.deepEqual(r.ag, Array.from({ length: p }, (_, q) => `r${q}`));
      assert.equal(r.rep, byRank[0].rep);
    }
    const all = byRank.flatMap((r) => r.rs as number[]);
    assert.deepEqual(all, new Array(2 * p + 1).fill(p * (p + 1) / 2));
  };

  // The flat world at scale (issue 17): 64 processes on this machine's cores join with no roster, run
  // every collective and close.
  it('p=64: collectives agree across processes, with identical float bits', agreeAcross(64)).timeout(300_000);

  for (const p of [3, 5]) {
    it(`p=${p}: collectives agree across processes, with identical float bits`, agreeAcross(p));

    it(`p=${p}: a SIGKILLed rank makes the others fail within 2 s with PeerLostError naming it`, async () => {
      const victim = p - 2;
      const { results, stderr } = await launch(p, ['kill', String(victim)]);
      assert.equal(results.length, p - 1, stderr);
      for (const r of results) {
        assert.equal(r.error, 'PeerLostError', JSON.stringify(r));
        assert.equal(r.named, victim, JSON.stringify(r));
        assert.ok((r.ms as number) < 2000, `rank ${r.rank} took ${r.ms} ms to notice`);
      }
    });

    it(`p=${p}: a SIGSTOPped rank is caught by the timeout, named by every other rank`, async () => {
      const victim = 1;
      const { results, stderr } = await launch(p, ['stop', String(victim)]);
      assert.equal(results.length, p - 1, stderr);
      for (const r of results) {
        assert.equal(r.error, 'PeerTimeoutError', JSON.stringify(r));
        assert.equal(r.named, victim, JSON.stringify(r));
      }
    });
  }
});
