// dask-mpi stores the scheduler's address in config (`scheduler-address`) for a no-argument
// Client(); here initialize() stores the client rank's link to the scheduler.
import type { ClientLink } from './client-link.js';

let current: ClientLink | undefined;

export function setConnection(link: ClientLink | undefined): void { current = link; }
export function connection(): ClientLink | undefined { return current; }
