// The machine's floor for a cell of `commune bench scaling`: the same tasks in p processes with no
// engine at all — no mesh, no messages, no agreement — started together. What an engine adds is its
// makespan above this; what this costs above the tasks' own length is the machine's (hundreds of
// processes waking on two cores), which no engine can avoid.
//
//   node scaling-floor.js TASK_MS TASKS spin|wait   (one process; the driver starts p of them)
// Protocol with the driver, one line each way: the process prints READY once loaded; the driver
// answers `GO <start ms since the epoch>` to every process once all are ready; each process waits
// until that instant, runs its tasks (its block of TASKS, by its index in COMMUNE_BENCH_FLOOR_RANK of
// COMMUNE_BENCH_FLOOR_SIZE), prints `DONE <end ms since the epoch> <cpu ms>`, and exits when the driver
// closes its stdin.
import { createInterface } from 'node:readline';
import { spin, wait } from './scaling-tasks.js';

const [msArg, tasksArg, kind] = process.argv.slice(2);
const ms = Number(msArg);
const tasks = Number(tasksArg);
const rank = Number(process.env.COMMUNE_BENCH_FLOOR_RANK);
const size = Number(process.env.COMMUNE_BENCH_FLOOR_SIZE);
const task = kind === 'spin' ? spin : wait;
// The block split the flat engine uses (src/collectives/blocks.ts), inlined: this process loads nothing of commune.
const base = Math.floor(tasks / size);
const extra = tasks % size;
const start = rank * base + Math.min(rank, extra);
const end = start + base + (rank < extra ? 1 : 0);

const lines = createInterface({ input: process.stdin });
lines.once('line', (line) => {
  const at = Number(/^GO (\d+(?:\.\d+)?)$/.exec(line)?.[1]);
  const now = performance.timeOrigin + performance.now();
  if (now < at) wait(0, at - now);
  const u0 = process.cpuUsage();
  for (let i = start; i < end; i++) task(i, ms);
  const u = process.cpuUsage(u0);
  process.stdout.write(`DONE ${performance.timeOrigin + performance.now()} ${(u.user + u.system) / 1000}\n`);
  // Stays until the driver closes stdin (every process done): an exit costs the cores more than a
  // task, and would be charged to the processes still running.
});
process.stdout.write('READY\n');
