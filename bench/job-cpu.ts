// CPU time of each rank of a job running on this node, read from /proc: the co-ordinator's cells charge
// the scheduler, the client and the workers separately, and the client cannot ask the others'
// process.cpuUsage() without messages that would themselves cost what is being measured.
import { readFileSync } from 'node:fs';
import { processesWith } from '../src/mesh/liveness.js';

/** Clock ticks per second of the times in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU milliseconds (user + system, every thread) so far of each rank of job `jobId` on this node. */
export function jobCpuMs(jobId: string): Map<number, number> | undefined {
  const procs = processesWith(jobId);
  if (!procs) return undefined;
  const out = new Map<number, number>();
  for (const { pid, env } of procs) {
    if (env.COMMUNE_JOB_ID !== jobId || env.COMMUNE_RANK === undefined) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue; // exited in between
    }
    // Fields after the command name: state is field 3, utime 14 and stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rank = Number(env.COMMUNE_RANK);
    out.set(rank, (out.get(rank) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ);
  }
  return out;
}

/** Each rank's CPU between two readings (ranks missing from either are left out). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [r, ms] of after) if (before.has(r)) out.set(r, ms - before.get(r)!);
  return out;
}
