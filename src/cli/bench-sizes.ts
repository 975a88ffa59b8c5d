// `--sizes` of `commune bench collectives`, apart from the benchmark so the CLI defines its options
// without loading it (every rank process starts through the CLI).
import { InvalidArgumentError } from 'commander';

export const KiB = 1024;
export const MiB = 1024 * 1024;
const MAX_SIZE = 64 * MiB;
export const DEFAULT_SIZES = [8, KiB, 64 * KiB, MiB];

/** `--sizes 8,1KiB,64K,1MiB`: bytes, or a K/KB/KiB or M/MB/MiB suffix (all binary); multiples of 8 (allreduce sums Float64). */
export function parseSizes(value: string): number[] {
  const out = new Set<number>();
  for (const raw of value.split(',')) {
    const tok = raw.trim();
    const m = /^(\d+)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(tok);
    if (!m) throw new InvalidArgumentError(`unknown size '${tok}' in --sizes '${value}': give bytes or a KiB/MiB suffix, e.g. 8,1KiB,64KiB,1MiB`);
    const unit = (m[2] ?? 'b').toLowerCase();
    const bytes = Number(m[1]) * (unit.startsWith('k') ? KiB : unit.startsWith('m') ? MiB : 1);
    if (bytes < 8 || bytes % 8 !== 0) throw new InvalidArgumentError(`size '${tok}' is ${bytes} bytes: sizes must be positive multiples of 8 bytes (allreduce sums Float64 elements)`);
    if (bytes > MAX_SIZE) throw new InvalidArgumentError(`size '${tok}' is above the ${MAX_SIZE / MiB} MiB limit of this benchmark`);
    out.add(bytes);
  }
  return [...out].sort((a, b) => a - b);
}

