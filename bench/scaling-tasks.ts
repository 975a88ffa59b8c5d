// The synthetic tasks of `commune bench scaling`. Exported from their own module so the
// co-ordinator's workers can import them by URL.

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/**
 * Busy for `ms` milliseconds of CPU time; returns `id` so that results can be checked. CPU time, not
 * wall time: on an oversubscribed machine a wall-clock spin would finish while descheduled and hide
 * the contention.
 */
export function spin(id: number, ms: number): number {
  const end = cpuMs() + ms;
  while (cpuMs() < end) { /* busy */ }
  return id;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Sleeps `ms` milliseconds (no CPU) and returns `id`: with more ranks than cores, spinning tasks
 * measure how the cores are shared; sleeping ones measure each engine's own overhead. A blocking
 * sleep of the thread, as Dask's tasks `time.sleep` in the worker's thread: an event-loop timer costs
 * each wake-up a turn of the loop (timers, microtasks, I/O poll), which at hundreds of processes on
 * two cores would be the machine's load, not the engine's.
 */
export function wait(id: number, ms: number): number {
  Atomics.wait(sleeper, 0, 0, ms);
  return id;
}
