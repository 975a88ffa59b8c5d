// One error type for every bad launch input, so the CLI can map it to exit code 2 before any work starts.

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  /** Process exit code for bad input (grid, flags, environment), per the project conventions. */
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
  }
}
