// The synthetic tasks of `commune bench scaling`: a task of fixed duration is that much CPU time (a
// spin on the process's CPU clock, not the wall clock: on an oversubscribed machine a wall-clock spin
// would finish while descheduled and hide the contention). Exported from its own module so the
// co-ordinator's workers can import it by URL.

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** Busy for `ms` milliseconds of CPU time; returns `id` so that results can be checked. */
export function spin(id: number, ms: number): number {
  const end = cpuMs() + ms;
  while (cpuMs() < end) { /* busy */ }
  return id;
}

/**
 * Waits `ms` milliseconds (a timer, no CPU) and returns `id`: with more ranks than cores, spinning
 * tasks measure how the cores are shared; waiting ones measure each engine's own overhead.
 */
export async function wait(id: number, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return id;
}

/** Total work per run (seconds) and the task counts that give it, for each task duration. */
export function tasksFor(ms: number, workSeconds: number): number {
  return Math.max(8, Math.round((workSeconds * 1000) / ms));
}
