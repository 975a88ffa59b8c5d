// numpy's legacy RandomState (MT19937), bit-exact, so seeded splits and folds pick the same
// indices as scikit-learn. Only the draws the workload needs are ported.
import { InvalidParameterError } from './errors.js';

const N = 624;
const M = 397;

export class RandomState {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;

  /** `seed`: an integer in [0, 2**32 - 1] (numpy's `RandomState(seed)`); omitted → an unpredictable seed. */
  constructor(seed?: number) {
    if (seed === undefined) seed = crypto.getRandomValues(new Uint32Array(1))[0];
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new InvalidParameterError('seed', `must be an integer between 0 and 2**32 - 1, got ${seed}`);
    }
    this.seed(seed);
  }

  /** numpy `mt19937_seed` (= Matsumoto & Nishimura's init_genrand). */
  private seed(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev in 32-bit arithmetic, split in 16-bit halves to stay exact.
      mt[i] = ((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i;
    }
    this.mti = N;
  }

  /** The next raw 32-bit output. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      let y: number;
      for (; kk < N - M; kk++) {
        y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform integer in [0, max] by masked rejection (numpy `random_interval`), max < 2**32. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    while ((v = (this.nextUint32() & mask) >>> 0) > max);
    return v;
  }

  /** `random_sample()` / `rand()`: a double in [0, 1) with 53 random bits. */
  rand(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `randint(low, high)`: an integer in [low, high) (numpy's legacy masked draw; range < 2**32). */
  randint(low: number, high?: number): number {
    if (high === undefined) { high = low; low = 0; }
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new InvalidParameterError('high', `randint needs integers low < high, got low=${low}, high=${high}`);
    }
    const rng = high - low - 1;
    if (rng > 0xffffffff) throw new InvalidParameterError('high', 'randint range must be below 2**32');
    if (rng === 0xffffffff) return low + this.nextUint32();
    return low + this.interval(rng);
  }

  /** In-place Fisher–Yates from the end, as numpy's legacy `shuffle` of a 1-d array. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A shuffled `arange(n)` (numpy `permutation(n)`). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new InvalidParameterError('n', `permutation needs a non-negative integer, got ${n}`);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }
}

/** scikit-learn's `check_random_state`: an integer seeds a new generator, an instance is used as is. */
export function checkRandomState(rs: number | RandomState | undefined): RandomState {
  return rs instanceof RandomState ? rs : new RandomState(rs);
}
