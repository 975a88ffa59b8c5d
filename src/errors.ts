// Typed errors: each says what happened, on which rank, and what to do.

export class CommuneError extends Error {
  /** Process exit code a CLI should use when this error ends the run. */
  exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Exit code of bad input (flags, environment, data), as for command-line tools generally. */
export const USAGE_EXIT_CODE = 2;

/** Bad input (flags, environment, data): reported before any work starts, exit code 2. */
export class UsageError extends CommuneError {
  override exitCode = USAGE_EXIT_CODE;
}

/** A peer rank is gone (process died, connection lost and not re-established). */
export class PeerLostError extends CommuneError {
  constructor(readonly rank: number, readonly observer: number, readonly detail: string) {
    super(`rank ${observer}: rank ${rank} is lost (${detail}); the job cannot continue with it — check rank ${rank}'s log for why it stopped`);
  }
}

/** A peer did not deliver within the deadline (hung, stopped, or never entered the operation). */
export class PeerTimeoutError extends CommuneError {
  constructor(readonly rank: number, readonly observer: number, what: string, ms: number) {
    super(`rank ${observer}: no ${what} from rank ${rank} within ${ms} ms — rank ${rank} is hung, stopped, or never entered this operation; raise timeoutMs if it is merely slow`);
  }
}

/** A peer sent bytes that do not follow the protocol (malformed or oversized frame). */
export class ProtocolError extends CommuneError {
  constructor(readonly peer: string, readonly observer: number, detail: string) {
    super(`rank ${observer}: protocol error from ${peer}: ${detail}`);
  }
}

/** Start-up could not assemble the world. */
export class StartupError extends CommuneError {
  constructor(readonly observer: number, detail: string) {
    super(`rank ${observer}: start-up failed: ${detail}`);
  }
}

/** Exit code of a rank the others declared lost and excluded (it was stopped, cut off or too slow). */
export const EVICTED_EXIT_CODE = 75;

/**
 * The surviving ranks declared this rank lost (it was stopped, unreachable or silent past the liveness
 * deadline) and went on without it; it must not rejoin, so it stops.
 */
export class EvictedError extends CommuneError {
  override exitCode = EVICTED_EXIT_CODE;
  constructor(readonly observer: number, readonly by: number, detail: string) {
    super(`rank ${observer}: evicted — ${by === observer ? detail : `rank ${by} declared this rank lost (${detail})`}; the others continue ` +
      'without it and redo its share. If it was merely slow (a long fit holding the event loop), raise COMMUNE_LIVENESS_MS');
  }
}

/** Exit code of a rank on the minority side of a partition: it stopped so that the job never finishes twice. */
export const PARTITIONED_EXIT_CODE = 76;

/**
 * This rank's side holds no majority of the ranks not proven dead (collectives/tree-agreement.ts): the
 * others may be alive behind a partition and go on with the job, so this side stops without a result.
 */
export class PartitionedError extends CommuneError {
  override exitCode = PARTITIONED_EXIT_CODE;
  constructor(readonly observer: number, what: string, readonly side: readonly number[], readonly unreachable: readonly number[], base: number) {
    super(`rank ${observer}: cut off from the majority in ${what} — ${side.length} of the ${base} ranks not proven dead are on this side ` +
      `(${side.length === 1 ? 'rank' : 'ranks'} ${side.join(', ')}); ${unreachable.length === 1 ? 'rank' : 'ranks'} ${unreachable.join(', ')} ` +
      `cannot be reached but ${unreachable.length === 1 ? 'is' : 'are'} not proven dead and may go on without this side, so it stops without a result ` +
      '(the job never finishes twice). Check the network between the nodes');
  }
}
