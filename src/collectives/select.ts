// The algorithm selection table: a pure function of (collective, p, bytes, commutative, splittable),
// no I/O. It follows MPICH's default decision tree (maint/tuning/coll/mpir/generic.json and the
// classic CVAR thresholds) with Open MPI's coll/tuned fixed rules where MPICH has a single choice.
// `bytes` is one rank's contribution (allgather: the total gathered, p × one contribution).

export const ALGORITHMS = {
  barrier: ['dissemination'],
  bcast: ['binomial'],
  reduce: ['binomial'],
  allreduce: ['recursive_doubling', 'ring', 'rabenseifner', 'reduce_bcast', 'allgather_reduce'],
  allgather: ['bruck', 'ring', 'recursive_doubling'],
  gather: ['binomial'],
  scatter: ['binomial'],
  reduce_scatter: ['recursive_halving', 'pairwise', 'recursive_doubling'],
} as const;

export type Collective = keyof typeof ALGORITHMS;
export type Algorithm<C extends Collective = Collective> = (typeof ALGORITHMS)[C][number];

export const COLLECTIVES = Object.keys(ALGORITHMS) as Collective[];

// MPICH thresholds (src/mpi/coll/cvars.txt).
export const ALLREDUCE_SHORT_MSG_SIZE = 2048;
export const ALLGATHER_SHORT_MSG_SIZE = 81920;
export const ALLGATHER_LONG_MSG_SIZE = 524288;
export const REDUCE_SCATTER_SHORT_MSG_SIZE = 524288;
// Open MPI coll/tuned, p < 4: ring / segmented ring below 256 KiB, Rabenseifner above.
export const OMPI_SMALL_P_RING_LIMIT = 262144;

const isPow2 = (p: number): boolean => p > 0 && (p & (p - 1)) === 0;
const pof2 = (p: number): number => 2 ** Math.floor(Math.log2(p));

/**
 * The algorithm for one call. `splittable`: the op is elementwise (built-in), so block-splitting
 * algorithms may apply; user ops are not. `count`: elements (allreduce's count ≥ pof2 rule).
 */
export function select(collective: Collective, p: number, bytes: number, commutative: boolean,
  splittable = commutative, count = bytes): Algorithm {
  switch (collective) {
    case 'barrier': return 'dissemination';
    case 'bcast': return 'binomial';          // MPICH: binomial below 8 ranks or 12 KiB; the size is known only at the root
    case 'reduce': return 'binomial';
    case 'gather': return 'binomial';
    case 'scatter': return 'binomial';
    case 'allreduce':
      if (!splittable || !commutative) return p >= 128 ? 'reduce_bcast' : 'recursive_doubling'; // OMPI non-commutative rows
      if (bytes <= ALLREDUCE_SHORT_MSG_SIZE || count < pof2(p)) return 'recursive_doubling';    // MPICH
      if (p < 4 && bytes < OMPI_SMALL_P_RING_LIMIT && count >= p) return 'ring';                  // OMPI p < 4
      return 'rabenseifner';                                                                      // MPICH / OMPI large
    case 'allgather':
      if (isPow2(p)) return bytes < ALLGATHER_LONG_MSG_SIZE ? 'recursive_doubling' : 'ring';
      return bytes < ALLGATHER_SHORT_MSG_SIZE ? 'bruck' : 'ring';
    case 'reduce_scatter':
      if (!splittable || !commutative) return 'recursive_doubling';
      return bytes < REDUCE_SCATTER_SHORT_MSG_SIZE ? 'recursive_halving' : 'pairwise';
  }
}

/**
 * Whether a (forced) algorithm can run this call; when it cannot, the communicator falls back to
 * `select` the way MPICH and Open MPI do (e.g. Open MPI's ring falls back to recursive doubling).
 */
export function applicable(collective: Collective, algorithm: Algorithm, p: number, splittable: boolean): boolean {
  if (collective === 'allreduce' && (algorithm === 'ring' || algorithm === 'rabenseifner')) return splittable;
  if (collective === 'reduce_scatter' && algorithm !== 'recursive_doubling') return splittable;
  if (collective === 'allgather' && algorithm === 'recursive_doubling') return isPow2(p);
  return true;
}

/** The environment variable that forces an algorithm, e.g. COMMUNE_ALLREDUCE_ALGORITHM. */
export function overrideVariable(collective: Collective): string {
  return `COMMUNE_${collective.toUpperCase()}_ALGORITHM`;
}
