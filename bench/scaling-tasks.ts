// The synthetic tasks of `commune bench scaling`: a task of fixed duration keeps a core busy for that
// long (a spin, not a sleep: a sleeping task would let one core serve many ranks and hide contention).
// Exported from its own module so the co-ordinator's workers can import it by URL.

/** Busy for `ms` milliseconds; returns `id` so that results can be checked. */
export function spin(id: number, ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
  return id;
}

/** Total work per run (seconds) and the task counts that give it, for each task duration. */
export function tasksFor(ms: number, workSeconds: number): number {
  return Math.max(8, Math.round((workSeconds * 1000) / ms));
}
