import { fstatSync, writeSync } from 'node:fs';

// A rank's word to `commune launch` over a pipe the launcher passes as a file descriptor (named by
// COMMUNE_LAUNCH_CONTROL_FD): which of its failures the job survives by design. Like mpirun, the
// launcher stops a job when a rank fails; but a Dask-style worker's death is the scheduler's business
// (its tasks re-run elsewhere, as under Dask), so a worker says so as soon as it knows its role.

/** The variable naming the launcher's control descriptor in a rank's environment. */
export const CONTROL_FD_ENV = 'COMMUNE_LAUNCH_CONTROL_FD';
/** The line a rank sends when the job survives its death. */
export const SURVIVABLE = 'survivable';

/** Tells `commune launch` (if it started this process) that the job survives this rank's death. */
export function declareSurvivable(env: NodeJS.ProcessEnv = process.env): void {
  const fd = Number(env[CONTROL_FD_ENV]);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    // Only the launcher's pipe (Node makes it a socket pair): an inherited variable must not make us
    // write into some ordinary file.
    const st = fstatSync(fd);
    if (!st.isFIFO() && !st.isSocket()) return;
    writeSync(fd, `${SURVIVABLE}\n`);
  } catch {
    // Not open here, or the launcher has gone: nobody to tell.
  }
}
