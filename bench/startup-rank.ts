// commune's side of `commune bench startup`: one rank, written as a user's script would be — the public
// API only. init(), one 8-byte allreduce, a barrier, a gather of each rank's timings to rank 0 (which
// prints them), close(). It imports the package by its name (the library bundle), as a user's script does.
// Started by `commune launch -n P -- node dist/bench/startup-rank.js`.
import { init } from 'commune';

const t0 = performance.now();
const comm = await init({ timeoutMs: 600_000 });
const t1 = performance.now();
const sum = await comm.allreduce(new Float64Array([1]), 'sum');
const t2 = performance.now();
await comm.barrier();
const cpu = process.cpuUsage();
const mine = { initMs: t1 - t0, firstMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, rssMiB: process.memoryUsage().rss / 1048576 };
const all = await comm.gather(mine, 0);
if (comm.rank === 0 && all) {
  const max = (k: keyof typeof mine): number => Math.max(...all.map((x) => x[k]));
  process.stdout.write(`STARTUP ${JSON.stringify({
    p: comm.size, sum: sum[0], slowestInitMs: max('initMs'), firstCollectiveMs: max('firstMs'),
    rankCpuMs: all.reduce((s, x) => s + x.cpuMs, 0), peakRankRssMiB: max('rssMiB'),
  })}\n`);
}
await comm.close();
