// The cells of `commune bench scaling` that are not commune's: the machine's floor (p plain processes,
// bench/scaling-floor.ts) and Dask (bench/scaling_dask.py). Paths come from the caller: from the CLI's
// bundle this module's own location is the bundle's.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CellResult } from './scaling-analysis.js';

/**
 * The machine's floor for a cell (bench/scaling-floor.ts): p plain processes running the same tasks,
 * no engine, started together once all are loaded.
 */
export function runFloorCell(root: string, p: number, workload: string, tasks: number, waitTasks: boolean): Promise<CellResult | string> {
  const script = join(root, 'dist', 'bench', 'scaling-floor.js');
  return new Promise((done) => {
    const procs = Array.from({ length: p }, (_, r) => spawn(process.execPath, [script, workload, String(tasks), waitTasks ? 'wait' : 'spin'], {
      stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, COMMUNE_BENCH_FLOOR_RANK: String(r), COMMUNE_BENCH_FLOOR_SIZE: String(p) },
    }));
    let ready = 0;
    let at = 0;
    const ends: Array<{ end: number; cpu: number }> = [];
    let failed: string | undefined;
    let closed = 0;
    procs.forEach((child, r) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (l === 'READY' && ++ready === p) {
          at = performance.timeOrigin + performance.now() + 50;
          for (const c of procs) c.stdin!.write(`GO ${at}\n`);
        }
        const m = /^DONE ([\d.]+) ([\d.]+)$/.exec(l);
        if (m) ends.push({ end: Number(m[1]), cpu: Number(m[2]) });
        if (m && ends.length === p) for (const c of procs) c.stdin!.end();
      });
      child.on('close', (code, signal) => {
        if (code !== 0) failed ??= `floor process ${r} exited with ${code ?? signal}`;
        if (++closed < p) return;
        if (failed || ends.length !== p) { done(failed ?? `${p - ends.length} floor processes did not finish`); return; }
        const cpu = ends.reduce((a, e) => a + e.cpu, 0) / p; // a floor process does nothing but its tasks
        done({
          engine: 'floor', workload, p, tasks, makespan: (Math.max(...ends.map((e) => e.end)) - at) / 1000,
          cpuMsPerRank: cpu, workCpuMsPerRank: cpu,
          messagesPerRank: 0, bytesPerRank: 0, ok: true,
        });
      });
    });
  });
}

/** One Dask cell (bench/scaling_dask.py): a LocalCluster of p workers, the same synthetic tasks. */
export function runDaskCell(root: string, python: string, p: number, workload: string, tasks: number, waitTasks: boolean): CellResult | string {
  const script = join(root, 'bench', 'scaling_dask.py');
  const r = spawnSync(python, [script, String(p), workload, String(tasks), waitTasks ? 'wait' : 'spin'], { encoding: 'utf8', timeout: 900_000 });
  const m = /^RESULT (.*)$/m.exec(r.stdout);
  if (!m) return (/^FAILED (.*)$/m.exec(r.stdout)?.[1] ?? `exit ${r.status ?? r.signal}: ${r.stderr.slice(-300)}`).trim();
  const d = JSON.parse(m[1]!) as { makespan: number; ok: boolean; workerRssMiB?: number; cpuMsPerRank?: number; schedulerCpuMs?: number; idleCoresPerWorker?: number };
  return {
    engine: 'dask', workload, p, tasks, makespan: d.makespan, messagesPerRank: Number.NaN, bytesPerRank: Number.NaN, ok: d.ok,
    workerRssMiB: d.workerRssMiB, cpuMsPerRank: d.cpuMsPerRank, schedulerCpuMs: d.schedulerCpuMs, idleCoresPerWorker: d.idleCoresPerWorker,
  };
}
