// Numeric reductions that round exactly as numpy's, where scikit-learn's results depend on it.

/** numpy's pairwise summation (`pairwise_sum_DOUBLE`: 8-way unrolled blocks of ≤ 128). */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k] += a[start + i + k];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/**
 * `np.sum` of a contiguous float64 array: numpy's reduction hands the pairwise kernel chunks of
 * its buffer size (8192 elements) and adds the chunk sums in order.
 */
export function numpySum(a: ArrayLike<number>): number {
  let acc = 0;
  for (let s = 0; s < a.length; s += 8192) acc += pairwiseSum(a, s, Math.min(8192, a.length - s));
  return acc;
}

/** `np.mean` of a flat array. */
export function mean(a: ArrayLike<number>): number {
  return numpySum(a) / a.length;
}

/** `np.var` (ddof=0) of a flat array, as numpy computes it: mean of squared deviations. */
export function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) { const t = a[i] - m; d[i] = t * t; }
  return numpySum(d) / a.length;
}

/** `np.std` (ddof=0). */
export function std(a: ArrayLike<number>): number {
  return Math.sqrt(variance(a));
}
