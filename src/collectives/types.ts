// Shapes shared by the communicator, the ops and the algorithm modules.

/** Arrays the reductions accept. */
export type ReduceArray = Float64Array | Float32Array | Int32Array | Uint8Array | BigInt64Array;

export type BuiltinOpName = 'sum' | 'prod' | 'min' | 'max' | 'minloc' | 'maxloc';

/**
 * A user reduction. `fn(a, b)` combines two whole contributions — `a` from lower ranks, `b` from
 * higher ranks — and returns an array of the same type and length (it may return `a` or `b`
 * modified in place). User ops are never split into blocks, so a 3×3 matrix product works. A
 * non-commutative op is combined strictly in rank order: rank 0 ⊕ rank 1 ⊕ … ⊕ rank p−1.
 */
export interface UserOp<T extends ReduceArray = ReduceArray> {
  fn: (a: T, b: T) => T;
  commutative: boolean;
  /** Shown in errors. */
  name?: string;
}

/** A built-in name, a user op, or a bare function (taken as non-commutative: always correct). */
export type Op = BuiltinOpName | UserOp<any> | ((a: any, b: any) => ReduceArray);

/** An op ready for the algorithms. */
export interface ResolvedOp {
  name: string;
  /** Elementwise, so algorithms may reduce blocks of the array separately (built-in ops only). */
  splittable: boolean;
  commutative: boolean;
  /** Elements per logical item: 2 for minloc/maxloc pairs, so blocks never split a pair. */
  unit: number;
  /** out = a ⊕ b with `a` from lower ranks; `out` may alias `a` or `b`. */
  combine(out: ReduceArray, a: ReduceArray, b: ReduceArray): void;
}

/** The point-to-point view of one collective call that an algorithm gets. */
export interface Ctx {
  readonly rank: number;
  readonly size: number;
  send(to: number, step: string, value: unknown): Promise<void>;
  recv(from: number, step: string): Promise<unknown>;
  /** Sends to `to` and receives from `from` concurrently (MPI_Sendrecv). */
  sendrecv(to: number, value: unknown, from: number, step: string): Promise<unknown>;
  /** Receives a typed array that must match `like`'s type (and `length`, when given). */
  recvArray<T extends ReduceArray>(from: number, step: string, like: T, length?: number): Promise<T>;
  sendrecvArray<T extends ReduceArray>(to: number, value: T, from: number, step: string, length?: number): Promise<T>;
  /**
   * Receives a typed array of `dest`'s type and length into `dest` (MPI's posted receive): the payload
   * lands there directly when the transport can, else it is copied. `dest` must be memory only this
   * call uses (a fresh result or scratch), never a caller's array: after a failed receive a late
   * frame may still land in it.
   */
  recvInto<T extends ReduceArray>(from: number, step: string, dest: T): Promise<T>;
  /** sendrecv whose receive lands in `dest` (recvInto). `value` and `dest` must not overlap. */
  sendrecvInto<T extends ReduceArray>(to: number, value: T, from: number, step: string, dest: T): Promise<T>;
  /** The same call with step names prefixed, for algorithms composed of others. */
  sub(prefix: string): Ctx;
}

export interface CallOptions {
  /** Deadline of this whole call, ms (default: the communicator's). */
  timeoutMs?: number;
}

/**
 * `out` (MPI's receive buffer): the result lands in this array, which the call returns, so a loop of
 * calls allocates nothing that grows with the message. It must have the result's type and length and
 * share no memory with the input. Only the caller's results should live there: if the call fails, its
 * contents are undefined, and a frame already on its way may still land in it.
 */
export interface OutOptions<T> extends CallOptions {
  out?: T;
}

export interface AllreduceOptions<T extends ReduceArray = ReduceArray> extends OutOptions<T> {
  /** Same bits for any algorithm: allgather, then every rank reduces in rank order. */
  reproducible?: boolean;
}

export function isReduceArray(v: unknown): v is ReduceArray {
  return v instanceof Float64Array || v instanceof Float32Array || v instanceof Int32Array
    || v instanceof Uint8Array || v instanceof BigInt64Array;
}

/** A fresh array of the same type as `like`. */
export function emptyLike<T extends ReduceArray>(like: T, length: number): T {
  return new (like.constructor as new (n: number) => T)(length);
}
