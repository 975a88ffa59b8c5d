import { ranksOnThisNode } from '../../topology/index.js';
import type { Mesh } from '../mesh/mesh.js';
import { CommuneError, PeerLostError, PeerTimeoutError, UsageError } from '../errors.js';
import { allgatherReduceAllreduce, type Allgather } from './allgather-reduce-allreduce.js';
import { binomialBcast } from './binomial-bcast.js';
import { binomialGather } from './binomial-gather.js';
import { binomialReduce } from './binomial-reduce.js';
import { binomialScatter } from './binomial-scatter.js';
import { block } from './blocks.js';
import { bruckAllgather } from './bruck-allgather.js';
import { disseminationBarrier } from './dissemination-barrier.js';
import { checkOut, expectLike, plain } from './errors.js';
import { Hub, type Member, type Status } from './hub.js';
import { describe, resolveOp } from './ops.js';
import { readOverrides, type Overrides } from './overrides.js';
import { pairwiseReduceScatter } from './pairwise-reduce-scatter.js';
import { rabenseifnerAllreduce } from './rabenseifner-allreduce.js';
import { recursiveDoublingAllgather } from './recursive-doubling-allgather.js';
import { recursiveDoublingAllreduce } from './recursive-doubling-allreduce.js';
import { recursiveHalvingReduceScatter } from './recursive-halving-reduce-scatter.js';
import { reduceBcastAllreduce } from './reduce-bcast-allreduce.js';
import { ringAllgather } from './ring-allgather.js';
import { ringAllreduce } from './ring-allreduce.js';
import { Run, View } from './run.js';
import { SPIN_VARIABLE, spinBudgetUs, Spinner } from './spin.js';
import { applicable, select, type Algorithm, type Collective } from './select.js';
import { isReduceArray, type AllreduceOptions, type CallOptions, type Ctx, type Op, type OutOptions, type ReduceArray, type ResolvedOp } from './types.js';

export interface CommunicatorOptions {
  /** Default deadline of every collective, ms (default: the mesh's). */
  timeoutMs?: number;
  /** Where COMMUNE_<COLLECTIVE>_ALGORITHM overrides and COMMUNE_SPIN_US are read, once, here (default: process.env). */
  env?: Record<string, string | undefined>;
}

const ALLGATHERS: Record<Algorithm<'allgather'>, Allgather> = {
  bruck: bruckAllgather,
  ring: ringAllgather,
  recursive_doubling: recursiveDoublingAllgather,
};

const FAILED_KEPT = 64;
const OUT_TYPES = 'Float64Array, Float32Array, Int32Array, Uint8Array or BigInt64Array';

/** `value` as a typed array, which an `out` option needs, else a UsageError saying so. */
function typedValue(value: unknown, where: string): ReduceArray {
  if (!isReduceArray(value)) throw new UsageError(`${where}: out needs a typed-array value (${OUT_TYPES}), got ${describe(value)}`);
  return value;
}

/** `result` copied into `out` when there is one (algorithms that cannot build their result in place). */
function into<T extends ReduceArray>(out: T | undefined, result: T): T {
  if (out === undefined) return result;
  out.set(result as never);
  return out;
}

/**
 * MPI-style collectives over a mesh. Every rank must call the same collectives in the same order;
 * each call gets the next sequence number, which is part of every message tag, so consecutive and
 * concurrent (issued but not awaited) collectives never mix.
 */
export class Communicator implements Member {
  readonly rank: number;
  readonly size: number;
  readonly node: string;
  readonly timeoutMs: number;
  /** Algorithms forced by COMMUNE_<COLLECTIVE>_ALGORITHM at construction. */
  readonly overrides: Overrides;
  private readonly hub: Hub;
  /** Polls the event loop while a call waits (spin.ts). */
  readonly spinner: Spinner;
  private readonly id: number;
  private seq = 0;
  private readonly active = new Map<number, Run>();
  private readonly failed = new Map<number, { on: number; why: string }>();
  private dead?: { rank: number; why: string };
  private closed = false;

  constructor(readonly mesh: Mesh, options: CommunicatorOptions = {}) {
    this.rank = mesh.rank;
    this.size = mesh.size;
    this.node = mesh.world.node;
    this.timeoutMs = options.timeoutMs ?? mesh.timeoutMs;
    const env = options.env ?? process.env;
    this.overrides = readOverrides(env);
    this.spinner = new Spinner(spinBudgetUs(env[SPIN_VARIABLE], ranksOnThisNode(mesh.world)));
    this.hub = Hub.of(mesh);
    this.id = this.hub.register(this);
  }

  /** Returns when every rank has entered the barrier. */
  barrier(opts?: CallOptions): Promise<void> {
    return this.collective('barrier', this.choose('barrier', 0), opts, (ctx) => disseminationBarrier(ctx));
  }

  /**
   * The root's value on every rank (the root gets its own value back). With `opts.out`, a rank other
   * than the root receives the root's typed array there (same type and length) and returns `out`.
   */
  bcast<T>(value: T, root: number, opts?: OutOptions<T>): Promise<T> {
    this.checkRoot(root, 'bcast');
    const out = opts?.out as ReduceArray | undefined;
    if (out !== undefined) {
      const where = `rank ${this.rank}: bcast`;
      if (!isReduceArray(out)) throw new UsageError(`${where}: out must be a typed array (${OUT_TYPES}), got ${describe(out)}`);
      if (this.rank === root) {
        const v = typedValue(value, where);
        checkOut(out, v, v.length, v, where);
      }
    }
    return this.collective('bcast', this.choose('bcast', 0), opts, async (ctx) => plain(await binomialBcast(ctx, value, root, out))) as Promise<T>;
  }

  /** The reduction of every rank's array on the root, `undefined` elsewhere. */
  reduce<T extends ReduceArray>(array: T, op: Op, root: number, opts?: CallOptions): Promise<T | undefined> {
    this.checkRoot(root, 'reduce');
    return this.collective('reduce', this.choose('reduce', 0), opts, (ctx) => binomialReduce(ctx, array, this.op(op, array, 'reduce'), root));
  }

  /**
   * A new array (or `opts.out`), the reduction of every rank's array, identical in every bit on every
   * rank.
   */
  allreduce<T extends ReduceArray>(array: T, op: Op, opts?: AllreduceOptions<T>): Promise<T> {
    const o = this.op(op, array, 'allreduce');
    const out = opts?.out;
    if (out !== undefined) checkOut(out, array, array.length, array, `rank ${this.rank}: allreduce`);
    if (opts?.reproducible) {
      const ag = this.choose('allgather', array.byteLength * this.size, true, true);
      return this.collective('allreduce', `allgather_reduce+${ag}`, opts, async (ctx) => into(out, await allgatherReduceAllreduce(ctx, array, o, ALLGATHERS[ag])));
    }
    const alg = this.choose('allreduce', array.byteLength, o.commutative, o.splittable, array.length / o.unit);
    return this.collective('allreduce', alg, opts, async (ctx): Promise<T> => {
      switch (alg) {
        case 'recursive_doubling': return recursiveDoublingAllreduce(ctx, array, o, out);
        case 'ring': return ringAllreduce(ctx, array, o, out);
        case 'rabenseifner': return rabenseifnerAllreduce(ctx, array, o, out);
        case 'reduce_bcast': return into(out, await reduceBcastAllreduce(ctx, array, o));
        case 'allgather_reduce': {
          const ag = this.choose('allgather', array.byteLength * this.size, true, true);
          return into(out, await allgatherReduceAllreduce(ctx.sub(ag), array, o, ALLGATHERS[ag]));
        }
      }
    });
  }

  /**
   * Every rank's value, indexed by rank (this rank's entry is the value it passed). Like
   * MPI_Allgather, typed-array values should have the same length on every rank: the algorithm is
   * chosen from p × this rank's byte length (any other value counts as small). With `opts.out` (a
   * typed array of the value's type and p × its length) rank q's value lands in block q of `out`, and
   * the entries returned are views of those blocks.
   */
  allgather<T>(value: T, opts?: OutOptions<T>): Promise<T[]> {
    const bytes = ArrayBuffer.isView(value) ? value.byteLength * this.size : 0;
    const out = opts?.out as ReduceArray | undefined;
    if (out !== undefined) {
      const where = `rank ${this.rank}: allgather`;
      const v = typedValue(value, where);
      checkOut(out, v, v.length * this.size, v, where);
    }
    const alg = this.choose('allgather', bytes, true, true);
    return this.collective('allgather', alg, opts, async (ctx) => {
      if (!out) return (await ALLGATHERS[alg](ctx, value)).map(plain);
      const n = (value as ReduceArray).length;
      const blocks = Array.from({ length: this.size }, (_, q) => out.subarray(q * n, (q + 1) * n));
      blocks[this.rank].set(value as never);
      // Ring and recursive doubling receive each block in place; Bruck's results (small messages) are copied there.
      if (alg === 'ring') await ringAllgather(ctx, value, blocks);
      else if (alg === 'recursive_doubling') await recursiveDoublingAllgather(ctx, value, { out, blocks });
      else {
        const got = await ALLGATHERS[alg](ctx, value);
        for (let q = 0; q < this.size; q++) if (q !== this.rank) blocks[q].set(expectLike(got[q], blocks[q], n, q, this.rank, 'allgather') as never);
      }
      return blocks;
    }) as Promise<T[]>;
  }

  /** Every rank's value indexed by rank on the root, `undefined` elsewhere. */
  gather<T>(value: T, root: number, opts?: CallOptions): Promise<T[] | undefined> {
    this.checkRoot(root, 'gather');
    return this.collective('gather', this.choose('gather', 0), opts, async (ctx) => (await binomialGather(ctx, value, root))?.map(plain)) as Promise<T[] | undefined>;
  }

  /** `values[rank]` of the root's array (only the root's `values` is read). */
  scatter<T>(values: T[] | undefined, root: number, opts?: CallOptions): Promise<T> {
    this.checkRoot(root, 'scatter');
    return this.collective('scatter', this.choose('scatter', 0), opts, (ctx) => {
      if (this.rank === root && (!Array.isArray(values) || values.length !== this.size)) {
        throw new UsageError(`rank ${this.rank}: scatter root needs an array of ${this.size} values (one per rank), got ${Array.isArray(values) ? `${values.length}` : typeof values}`);
      }
      return binomialScatter(ctx, values, root).then(plain);
    }) as Promise<T>;
  }

  /**
   * This rank's block of the reduction: blocks are contiguous and as equal as possible, the first
   * (length % size) ranks getting one extra element (for minloc/maxloc: one extra pair).
   */
  reduceScatter<T extends ReduceArray>(array: T, op: Op, opts?: CallOptions): Promise<T> {
    const o = this.op(op, array, 'reduceScatter');
    const alg = this.choose('reduce_scatter', array.byteLength, o.commutative, o.splittable);
    return this.collective('reduce_scatter', alg, opts, async (ctx): Promise<T> => {
      switch (alg) {
        case 'recursive_halving': return recursiveHalvingReduceScatter(ctx, array, o);
        case 'pairwise': return pairwiseReduceScatter(ctx, array, o);
        case 'recursive_doubling': {
          // The whole vector by recursive doubling (any op, rank order), then this rank's block.
          const all = await recursiveDoublingAllreduce(ctx, array, o);
          const { start, end } = block(all.length, this.size, this.rank, o.unit);
          return all.slice(start, end) as T;
        }
      }
    });
  }

  /** Leaves the world: closes the mesh (waits for outgoing messages to be written). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.unregister(this.id);
    for (const run of this.active.values()) run.abort(new CommuneError(`rank ${this.rank}: the communicator was closed during ${run.what}`));
    await this.mesh.close();
  }

  /** The algorithm a call would use: the forced one when it applies, else the selection table's. */
  choose<C extends Collective>(c: C, bytes: number, commutative = true, splittable = commutative, count = bytes): Algorithm<C> {
    const forced = this.overrides[c];
    if (forced && applicable(c, forced, this.size, splittable)) return forced as Algorithm<C>;
    return select(c, this.size, bytes, commutative, splittable, count) as Algorithm<C>;
  }

  // --- Member: answers peers' status queries and hears of lost ranks -------------------------------

  status(seq: number): Status {
    const run = this.active.get(seq);
    if (run) return run.waitingOn !== undefined ? { s: 'wait', on: run.waitingOn } : { s: 'busy' };
    const f = this.failed.get(seq);
    if (f) return { s: 'failed', ...f };
    return seq < this.seq ? { s: 'done' } : { s: 'absent' };
  }

  /** A rank that left on purpose (a normal exit) finished its part of every collective: only receives from it fail. */
  onLost(rank: number, why: string, left: boolean): void {
    if (left || this.dead) return;
    this.dead = { rank, why };
    for (const run of this.active.values()) run.abort(new PeerLostError(rank, this.rank, why));
  }

  // --- internals --------------------------------------------------------------------------------

  private op(op: Op, array: unknown, where: string): ResolvedOp {
    return resolveOp(op, array, `rank ${this.rank}: ${where}`);
  }

  private checkRoot(root: number, what: string): void {
    if (!Number.isInteger(root) || root < 0 || root >= this.size) {
      throw new UsageError(`rank ${this.rank}: ${what} root ${root} is outside the world 0..${this.size - 1}`);
    }
  }

  private async collective<T>(name: string, algorithm: string, opts: CallOptions | undefined, body: (ctx: Ctx) => Promise<T>): Promise<T> {
    const seq = this.seq++;
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
    const what = `${name} #${seq} (${algorithm})`;
    if (this.closed) throw new CommuneError(`rank ${this.rank}: ${what} called after close()`);
    if (this.dead) throw new PeerLostError(this.dead.rank, this.rank, this.dead.why);
    if (!(timeoutMs > 0)) throw new UsageError(`rank ${this.rank}: ${what}: timeoutMs must be a positive number of ms, got ${timeoutMs}`);
    const run = new Run(this.mesh, `c${this.id}/${seq}/${algorithm}/`, seq, what, timeoutMs);
    this.active.set(seq, run);
    const unhold = this.spinner.hold();
    try {
      return await body(new View(run, '', this));
    } catch (e) {
      let err = e as Error;
      if (err instanceof PeerTimeoutError && err.observer === this.rank) err = await this.blame(run, err);
      const on = err instanceof PeerTimeoutError || err instanceof PeerLostError ? err.rank : this.rank;
      this.failed.set(seq, { on, why: err.message });
      if (this.failed.size > FAILED_KEPT) this.failed.delete(this.failed.keys().next().value!);
      throw err;
    } finally {
      unhold();
      this.active.delete(seq);
      run.dispose();
    }
  }

  /**
   * A receive from `err.rank` timed out; that rank may itself be waiting on another. Follow the
   * waits (asking each rank where it is in this collective) to the rank that is absent, silent,
   * failed or gone, and name it.
   */
  private async blame(run: Run, err: PeerTimeoutError): Promise<Error> {
    const grace = Math.min(2000, Math.max(200, run.timeoutMs / 4));
    const chain: number[] = [];
    let cur = err.rank;
    for (let hops = 0; hops < this.size; hops++) {
      if (cur === this.rank) break;
      const st = await this.hub.query(cur, this.id, run.seq, grace);
      if (st?.s === 'lost') return new PeerLostError(cur, this.rank, st.why);
      if (st?.s === 'wait' && st.on !== cur && st.on !== this.rank && !chain.includes(st.on)) {
        chain.push(cur);
        cur = st.on;
        continue;
      }
      if (st?.s === 'failed' && st.on !== cur && st.on !== this.rank && !chain.includes(st.on)) {
        chain.push(cur);
        cur = st.on;
        break;
      }
      break;
    }
    if (chain.length === 0) return err;
    const via = chain.map((r) => `rank ${r}`).join(', which waits on ');
    return new PeerTimeoutError(cur, this.rank, `progress in ${run.what} (this rank waits on ${via}, which waits on rank ${cur})`, run.timeoutMs);
  }
}

export { isReduceArray };
