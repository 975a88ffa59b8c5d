// distributed's intervals (reference §4): heartbeat 0.5 s up to 10 workers, 1 s below 50, 2 s below
// 200, then n/200 + 1 s; worker-ttl 5 minutes (at least 10 heartbeats); allowed-failures 3.
export function heartbeatIntervalMs(nWorkers: number): number {
  if (nWorkers <= 10) return 500;
  if (nWorkers < 50) return 1000;
  if (nWorkers < 200) return 2000;
  return (nWorkers / 200 + 1) * 1000;
}

export const WORKER_TTL_MS = 5 * 60 * 1000;
export const ALLOWED_FAILURES = 3;

export function workerTtlMs(nWorkers: number): number {
  return Math.max(WORKER_TTL_MS, 10 * heartbeatIntervalMs(nWorkers));
}
