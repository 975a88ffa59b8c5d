// Benchmark (not a test): per-task overhead of the co-ordinator — `client.map` of N no-op tasks and
// `client.gather`, timed from map to gather's return — beside distributed's `client.map` on a
// 2-worker LocalCluster (1 thread each) in the same invocation; ratio printed. commune runs 4 rank
// processes (scheduler, client, 2 workers × 1 thread), the same shape. Both sides warm up with
// 1,000 tasks first. Target (issue 6): ≤ 0.2× Dask's per-task time.
//
//   npx tsc -p . && node dist/bench/compat-overhead.js [--tasks N] [--reps R] [--json PATH]
// The same file is the rank script (it exports the no-op task): under `commune launch` it runs as a rank.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initialize, Client } from '../compat/index.js';

export function noop(): null { return null; }

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const arg = (name: string, dflt: number): number => { const i = process.argv.indexOf(name); return i >= 0 ? Number(process.argv[i + 1]) : dflt; };
const N = arg('--tasks', 10000);
const REPS = arg('--reps', 3);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

if (process.env.COMMUNE_RANK !== undefined) {
  // Rank mode: rank 1 runs the measurement; the others serve it.
  await initialize({ nthreads: 1 });
  const client = new Client();
  await client.gather(client.map(noop, Array.from({ length: 1000 }, (_, i) => i), { pure: false }));
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await client.gather(client.map(noop, Array.from({ length: N }, (_, i) => i), { pure: false }));
    process.stdout.write(`BENCH_SECONDS ${(performance.now() - t0) / 1000}\n`);
  }
} else {
  const seconds = (out: string): number[] => [...out.matchAll(/BENCH_SECONDS ([\d.e-]+)/g)].map((m) => Number(m[1]));
  const self = fileURLToPath(import.meta.url);
  const c = spawnSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'launch', '-n', '4', '--', process.execPath, self, '--tasks', String(N), '--reps', String(REPS)], { encoding: 'utf8' });
  const ours = seconds(c.stdout);
  if (c.status !== 0 || ours.length !== REPS) { process.stderr.write(`commune run failed (exit ${c.status}):\n${c.stderr.slice(-2000)}\n`); process.exit(1); }
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import distributed'], { encoding: 'utf8' });
  let dask: number[] | undefined;
  let skipped: string | undefined;
  if (probe.status !== 0) skipped = 'dask not installed';
  else {
    const d = spawnSync('/usr/bin/python3', [join(root, 'bench', 'compat_overhead_dask.py'), String(N), String(REPS)], { encoding: 'utf8' });
    dask = seconds(d.stdout);
    if (d.status !== 0 || dask.length !== REPS) { skipped = `the Dask anchor failed (exit ${d.status}): ${d.stderr.trim().split('\n').pop()}`; dask = undefined; }
  }
  const perTask = (s: number): number => (s / N) * 1e6;
  const ourUs = perTask(median(ours));
  const lines = [
    `machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} CPUs; ${N} no-op tasks, map + gather, median of ${REPS}`,
    '',
    '| engine | workers | total s (median) | µs per task | ratio to Dask | target |',
    '|---|---|---|---|---|---|',
    `| commune co-ordinator | 2 ranks × 1 thread | ${median(ours).toFixed(3)} | ${ourUs.toFixed(1)} | ${dask ? (ourUs / perTask(median(dask))).toFixed(3) + '×' : '–'} | ≤ 0.2× |`,
  ];
  if (dask) lines.push(`| Dask distributed (LocalCluster) | 2 processes × 1 thread | ${median(dask).toFixed(3)} | ${perTask(median(dask)).toFixed(1)} | 1.000× | |`);
  process.stdout.write(lines.join('\n') + '\n' + (skipped ? `Dask skipped: ${skipped}\n` : '') + `all runs (s): commune ${ours.map((x) => x.toFixed(3)).join(', ')}${dask ? `; Dask ${dask.map((x) => x.toFixed(3)).join(', ')}` : ''}\n`);
  const i = process.argv.indexOf('--json');
  if (i >= 0) writeFileSync(process.argv[i + 1], JSON.stringify({ tasks: N, reps: REPS, commune_seconds: ours, dask_seconds: dask ?? null, dask_skipped: skipped ?? null, ratio: dask ? ourUs / perTask(median(dask)) : null }, null, 2) + '\n');
}
