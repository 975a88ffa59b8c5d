// OSU-style latency of allreduce, bcast, allgather and barrier on a Communicator (osu_allreduce.c:
// each timed iteration is one collective followed by an untimed barrier; warm-up iterations are
// excluded; each rank's mean is then reduced across ranks to avg / min / max). Every rank of the
// communicator must call runCollectiveBench with the same options; rank 0's table is returned.
// Payloads: allreduce sums a Float64Array of `bytes` bytes; bcast and allgather move a Uint8Array of
// `bytes` bytes (allgather: `bytes` from each rank); barrier has no size (reported as 0). Results land
// in arrays allocated once per size (`out`), as MPI's do in its receive buffers.
import type { Communicator } from '../src/collectives/communicator.js';

export type BenchCollective = 'allreduce' | 'bcast' | 'allgather' | 'barrier';

export interface BenchOptions {
  collectives?: BenchCollective[];
  /** Message sizes in bytes (powers of two from 8 B to 1 MiB by default). */
  sizes?: number[];
  /** Iterations and warm-up per size: OSU's 1000 + 100 up to 8 KiB, 100 + 10 above. */
  iterations?: (bytes: number) => { iterations: number; warmup: number };
  /** Called on every rank after each (collective, size) row is complete. */
  onRow?: (row: BenchRow) => void;
}

export interface BenchRow { collective: BenchCollective; bytes: number; avgUs: number; minUs: number; maxUs: number; iterations: number }

const DEFAULT_SIZES = Array.from({ length: 18 }, (_, k) => 8 * 2 ** k);
const osuIterations = (bytes: number): { iterations: number; warmup: number } =>
  bytes <= 8192 ? { iterations: 1000, warmup: 100 } : { iterations: 100, warmup: 10 };

/** Like the anchor's receive buffers (mpi4py's Allreduce(send, recv)), results land in arrays allocated once per row. */
interface Buffers { f64: Float64Array; f64Out: Float64Array; u8: Uint8Array; u8Out: Uint8Array; gathered: Uint8Array }

async function once(comm: Communicator, c: BenchCollective, b: Buffers): Promise<void> {
  switch (c) {
    case 'allreduce': await comm.allreduce(b.f64, 'sum', { out: b.f64Out }); break;
    case 'bcast': await comm.bcast(b.u8, 0, comm.rank === 0 ? undefined : { out: b.u8Out }); break;
    case 'allgather': await comm.allgather(b.u8, { out: b.gathered }); break;
    case 'barrier': await comm.barrier(); break;
  }
}

export async function runCollectiveBench(comm: Communicator, opts: BenchOptions = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const iters = opts.iterations ?? osuIterations;
  for (const c of opts.collectives ?? ['allreduce', 'bcast', 'allgather', 'barrier']) {
    for (const bytes of c === 'barrier' ? [0] : opts.sizes ?? DEFAULT_SIZES) {
      const n = Math.max(1, Math.floor(bytes / 8));
      const buffers: Buffers = {
        f64: new Float64Array(n), f64Out: new Float64Array(n),
        u8: new Uint8Array(bytes), u8Out: new Uint8Array(bytes), gathered: new Uint8Array(bytes * comm.size),
      };
      const { iterations, warmup } = iters(bytes);
      let total = 0;
      for (let i = 0; i < warmup + iterations; i++) {
        const t0 = process.hrtime.bigint();
        await once(comm, c, buffers);
        const dt = Number(process.hrtime.bigint() - t0) / 1000;
        if (i >= warmup) total += dt;
        await comm.barrier();
      }
      const mean = new Float64Array([total / iterations]);
      const [sum, min, max] = await Promise.all([
        comm.allreduce(mean, 'sum'), comm.allreduce(mean, 'min'), comm.allreduce(mean, 'max'),
      ]);
      const row: BenchRow = { collective: c, bytes, avgUs: sum[0] / comm.size, minUs: min[0], maxUs: max[0], iterations };
      rows.push(row);
      opts.onRow?.(row);
    }
  }
  return rows;
}

/** The OSU `-f` table for one collective. */
export function formatOsu(rows: BenchRow[], collective: BenchCollective, p: number): string {
  const lines = [`# commune ${collective} latency test (p = ${p})`, '# Size  Avg Latency(us)  Min Latency(us)  Max Latency(us)  Iterations'];
  for (const r of rows.filter((x) => x.collective === collective)) {
    lines.push(`${String(r.bytes).padEnd(8)}${r.avgUs.toFixed(2).padStart(15)}${r.minUs.toFixed(2).padStart(17)}${r.maxUs.toFixed(2).padStart(17)}${String(r.iterations).padStart(12)}`);
  }
  return lines.join('\n');
}

/** One row of the Open MPI anchor (bench/osu_mpi4py.py), same shape as ours. */
export interface AnchorRow { collective: BenchCollective; bytes: number; avgUs: number; minUs: number; maxUs: number; iterations: number }

/** Our avg latency over the anchor's for the same collective and size (undefined when either is missing). */
export function ratioOf(rows: BenchRow[], anchor: AnchorRow[] | undefined, collective: BenchCollective, bytes: number): number | undefined {
  const ours = rows.find((r) => r.collective === collective && r.bytes === bytes);
  const theirs = anchor?.find((r) => r.collective === collective && r.bytes === bytes);
  return ours && theirs && theirs.avgUs > 0 ? ours.avgUs / theirs.avgUs : undefined;
}

/** The OSU table for one collective with `OpenMPI Avg(us)` and `Ratio` (ours / Open MPI) columns; '-' where the anchor has no figure. */
export function formatOsuCompared(rows: BenchRow[], anchor: AnchorRow[] | undefined, collective: BenchCollective, p: number, note = ''): string {
  const lines = [
    `# commune ${collective} latency test (p = ${p})${note}`,
    '# Size  Avg Latency(us)  Min Latency(us)  Max Latency(us)  Iterations  OpenMPI Avg(us)     Ratio',
  ];
  for (const r of rows.filter((x) => x.collective === collective)) {
    const theirs = anchor?.find((a) => a.collective === collective && a.bytes === r.bytes);
    const ratio = ratioOf(rows, anchor, collective, r.bytes);
    lines.push(
      `${String(r.bytes).padEnd(8)}${r.avgUs.toFixed(2).padStart(15)}${r.minUs.toFixed(2).padStart(17)}${r.maxUs.toFixed(2).padStart(17)}${String(r.iterations).padStart(12)}` +
      `${(theirs ? theirs.avgUs.toFixed(2) : '-').padStart(17)}${(ratio === undefined ? '-' : `${ratio.toFixed(2)}x`).padStart(10)}`,
    );
  }
  return lines.join('\n');
}
