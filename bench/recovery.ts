// Benchmark (not a test): what a rank failure costs the flat engine. The seed grid search on P rank
// processes (`commune launch -n P --keep-going -- commune gridsearch`), with k = 0 … P−1 ranks
// SIGKILLed once rank 0's progress passes 30 %; the victims are the highest ranks. Reports, per k:
//   wall s        whole job (launch → exit), median of the runs
//   overhead      wall minus the fault-free wall
//   recovery ms   SIGKILL → the last survivor's "ranks … lost; the survivors redo …" log line
//                 (detection + agreement), median
//   fits redone   from the printing rank's --json
// Every run's results are checked against the fault-free run (cv_results_ without timings).
// There is no anchor: MPI aborts the job on a rank failure, and Dask loses the job with its scheduler.
//
//   npx tsc -p . && node dist/bench/recovery.js [--ranks P] [--reps N]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Math.max(1, Number(process.argv[i + 1]) | 0) : dflt;
};
const P = arg('--ranks', 4);
const REPS = arg('--reps', 2);

interface Run { wall: number; recoveryMs?: number; redone: number; scorers: string; code: number | null }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function comparable(path: string): string {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { scorers: Record<string, { cv_results: Record<string, unknown> }> };
  for (const s of Object.values(j.scorers)) for (const k of Object.keys(s.cv_results)) if (k.endsWith('_time')) delete s.cv_results[k];
  return JSON.stringify(j.scorers);
}

function runOnce(kills: number, json: string): Promise<Run> {
  return new Promise((done, reject) => {
    const t0 = performance.now();
    const script = `echo PID $$; exec "${process.execPath}" "${CLI}" gridsearch --json "${json}"`;
    const child = spawn(process.execPath, [CLI, 'launch', '-n', String(P), '--keep-going', '--', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const pids = new Map<number, number>();
    let killedAt = 0;
    const lostAt: number[] = [];
    const lines = (buf: { s: string }, d: Buffer, each: (l: string) => void): void => {
      buf.s += d.toString();
      let nl: number;
      while ((nl = buf.s.indexOf('\n')) >= 0) { each(buf.s.slice(0, nl)); buf.s = buf.s.slice(nl + 1); }
    };
    const out = { s: '' };
    const err = { s: '' };
    child.stdout.on('data', (d: Buffer) => lines(out, d, (l) => {
      const m = /^\[(\d+)\] PID (\d+)$/.exec(l);
      if (m) pids.set(Number(m[1]), Number(m[2]));
    }));
    child.stderr.on('data', (d: Buffer) => lines(err, d, (l) => {
      const prog = /^\[0\] gridsearch: (\d+)\/(\d+) fits/.exec(l);
      if (prog && kills > 0 && !killedAt && Number(prog[1]) >= 0.3 * Number(prog[2])) {
        killedAt = Date.now();
        for (let r = P - 1; r >= P - kills; r--) { try { process.kill(pids.get(r)!, 'SIGKILL'); } catch { /* already gone */ } }
      }
      const lost = /^\[\d+\] (\{.*\})$/.exec(l);
      if (lost && lost[1].includes('the survivors redo')) lostAt.push((JSON.parse(lost[1]) as { time: number }).time);
    }));
    child.on('error', reject);
    child.on('close', (code) => {
      let redone = 0;
      let scorers = '';
      try {
        redone = (JSON.parse(readFileSync(json, 'utf8')) as { fits_redone: number }).fits_redone;
        scorers = comparable(json);
      } catch { /* reported as a failed run */ }
      done({ wall: (performance.now() - t0) / 1000, recoveryMs: killedAt && lostAt.length ? Math.max(...lostAt) - killedAt : undefined, redone, scorers, code });
    });
  });
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'commune-bench-recovery-'));
  const rows: Array<{ kills: number; runs: Run[] }> = [];
  try {
    for (let kills = 0; kills < P; kills++) {
      const runs: Run[] = [];
      for (let i = 0; i < REPS; i++) {
        process.stderr.write(`recovery bench: ${kills} of ${P} ranks killed, run ${i + 1}/${REPS}\n`);
        runs.push(await runOnce(kills, join(tmp, `k${kills}-${i}.json`)));
      }
      rows.push({ kills, runs });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const reference = rows[0].runs.find((r) => r.scorers !== '')?.scorers;
  const base = median(rows[0].runs.map((r) => r.wall));
  const out: string[] = [];
  out.push(`## flat engine: cost of rank failures — seed grid search on ${P} ranks (${P > availableParallelism() ? 'oversubscribed, ' : ''}${REPS} runs per row)`);
  out.push('');
  out.push(`machine: ${cpus()[0]?.model?.trim() ?? 'unknown'}, nproc ${availableParallelism()}; date ${new Date().toISOString()}; node ${process.version}; COMMUNE_LIVENESS_MS ${process.env.COMMUNE_LIVENESS_MS ?? '5000 (default)'}`);
  out.push('');
  out.push('| ranks killed at 30 % | wall s (median) | overhead s | recovery ms (kill → agreed) | fits redone | results identical | exit |');
  out.push('|---|---|---|---|---|---|---|');
  for (const { kills, runs } of rows) {
    const wall = median(runs.map((r) => r.wall));
    const rec = runs.flatMap((r) => (r.recoveryMs === undefined ? [] : [r.recoveryMs]));
    const same = runs.every((r) => r.scorers !== '' && r.scorers === reference);
    out.push(`| ${kills} | ${wall.toFixed(2)} | ${(wall - base).toFixed(2)} | ${kills === 0 ? '—' : rec.length ? median(rec).toFixed(0) : 'n/a'} | ` +
      `${runs.map((r) => r.redone).join(', ')} | ${same ? 'yes' : 'NO'} | ${runs.map((r) => r.code).join(', ')} |`);
  }
  console.log(out.join('\n'));
}

main().catch((e: unknown) => { console.error(e instanceof Error ? e.stack : String(e)); process.exit(1); });
