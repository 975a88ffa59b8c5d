// A port of libsvm's C-SVC `Solver` (Fan, Chen & Lin 2005), step for step, over a precomputed
// kernel matrix. Hand-written rather than a dependency because (1) predictions must equal
// scikit-learn's, which needs libsvm's exact working-set choice, update, shrinking and rho, and
// (2) the kernel must come from one shared matrix (kernel.ts) instead of being rebuilt per fit.
// Q values are rounded to float32 as in libsvm's kernel cache; the diagonal stays float64.

const TAU = 1e-12;
const LOWER = 0;
const UPPER = 1;
const FREE = 2;

export interface BinaryProblem {
  /** The full kernel matrix, row-major n×n. */
  K: Float64Array;
  n: number;
  /** Kernel rows of the subproblem's samples, in libsvm order (positives first). */
  rows: Int32Array;
  /** Labels ±1 per subproblem sample. */
  y: Float64Array;
  Cp: number;
  Cn: number;
  eps: number;
  shrinking: boolean;
  /** Iteration cap; -1 = none (scikit-learn's default). */
  maxIter: number;
}

export interface BinarySolution {
  /** y_t·α_t per subproblem sample (libsvm's signed coefficients). */
  coef: Float64Array;
  rho: number;
  iterations: number;
  converged: boolean;
  /** The largest value the run compared with C (α before and after clipping, α_i + α_j). */
  peak: number;
}

/** libsvm's Solver state for one binary problem; hot loops copy fields into locals. */
class Solver {
  readonly l: number;
  readonly idx: Int32Array;
  readonly y: Float64Array;
  readonly alpha: Float64Array;
  readonly status: Uint8Array;
  readonly activeSet: Int32Array;
  readonly G: Float64Array;
  readonly Gbar: Float64Array;
  readonly QD: Float64Array;
  readonly Qi: Float64Array;
  readonly Qj: Float64Array;
  activeSize: number;
  unshrink = false;
  outI = -1;
  outJ = -1;
  peak = 0;

  constructor(readonly K: Float64Array, readonly N: number, rows: Int32Array, y: Float64Array, readonly Cp: number, readonly Cn: number, readonly eps: number) {
    const l = rows.length;
    this.l = l;
    this.idx = Int32Array.from(rows);
    this.y = Float64Array.from(y);
    this.alpha = new Float64Array(l);
    this.status = new Uint8Array(l).fill(LOWER);
    this.activeSet = new Int32Array(l);
    this.G = new Float64Array(l).fill(-1); // p = −1 and α = 0, so G = p
    this.Gbar = new Float64Array(l);
    this.QD = new Float64Array(l);
    this.Qi = new Float64Array(l);
    this.Qj = new Float64Array(l);
    for (let t = 0; t < l; t++) { this.activeSet[t] = t; this.QD[t] = K[this.idx[t] * N + this.idx[t]]; }
    this.activeSize = l;
  }

  /** Column i of Q over positions [0, len): Q_it = float32(y_i y_t K(i, t)), as libsvm's cache. */
  getQ(i: number, len: number, out: Float64Array): void {
    const { K, idx, y } = this;
    const base = idx[i] * this.N;
    const yi = y[i];
    const fround = Math.fround;
    for (let t = 0; t < len; t++) out[t] = fround(yi * y[t] * K[base + idx[t]]);
  }

  getC(t: number): number {
    return this.y[t] > 0 ? this.Cp : this.Cn;
  }

  updateStatus(t: number): void {
    const a = this.alpha[t];
    this.status[t] = a >= this.getC(t) ? UPPER : a <= 0 ? LOWER : FREE;
  }

  swap(a: number, b: number): void {
    const { y, G, status, alpha, activeSet, Gbar, idx, QD } = this;
    let t: number;
    t = y[a]; y[a] = y[b]; y[b] = t;
    t = G[a]; G[a] = G[b]; G[b] = t;
    t = status[a]; status[a] = status[b]; status[b] = t;
    t = alpha[a]; alpha[a] = alpha[b]; alpha[b] = t;
    t = activeSet[a]; activeSet[a] = activeSet[b]; activeSet[b] = t;
    t = Gbar[a]; Gbar[a] = Gbar[b]; Gbar[b] = t;
    t = idx[a]; idx[a] = idx[b]; idx[b] = t;
    t = QD[a]; QD[a] = QD[b]; QD[b] = t;
  }

  reconstructGradient(): void {
    const { l, G, Gbar, status, alpha, Qi } = this;
    const as = this.activeSize;
    if (as === l) return;
    for (let j = as; j < l; j++) G[j] = Gbar[j] - 1;
    let nrFree = 0;
    for (let j = 0; j < as; j++) if (status[j] === FREE) nrFree++;
    if (nrFree * l > 2 * as * (l - as)) {
      for (let i = as; i < l; i++) {
        this.getQ(i, as, Qi);
        let g = G[i];
        for (let j = 0; j < as; j++) if (status[j] === FREE) g += alpha[j] * Qi[j];
        G[i] = g;
      }
    } else {
      for (let i = 0; i < as; i++) {
        if (status[i] !== FREE) continue;
        this.getQ(i, l, Qi);
        const ai = alpha[i];
        for (let j = as; j < l; j++) G[j] += ai * Qi[j];
      }
    }
  }

  beShrunk(t: number, gmax1: number, gmax2: number): boolean {
    const st = this.status[t];
    const g = this.G[t];
    if (st === UPPER) return this.y[t] > 0 ? -g > gmax1 : -g > gmax2;
    if (st === LOWER) return this.y[t] > 0 ? g > gmax2 : g > gmax1;
    return false;
  }

  doShrinking(): void {
    const { y, G, status } = this;
    let gmax1 = -Infinity;
    let gmax2 = -Infinity;
    for (let t = 0; t < this.activeSize; t++) {
      if (y[t] > 0) {
        if (status[t] !== UPPER && -G[t] >= gmax1) gmax1 = -G[t];
        if (status[t] !== LOWER && G[t] >= gmax2) gmax2 = G[t];
      } else {
        if (status[t] !== UPPER && -G[t] >= gmax2) gmax2 = -G[t];
        if (status[t] !== LOWER && G[t] >= gmax1) gmax1 = G[t];
      }
    }
    if (!this.unshrink && gmax1 + gmax2 <= this.eps * 10) {
      this.unshrink = true;
      this.reconstructGradient();
      this.activeSize = this.l;
    }
    for (let t = 0; t < this.activeSize; t++) {
      if (this.beShrunk(t, gmax1, gmax2)) {
        this.activeSize--;
        while (this.activeSize > t) {
          if (!this.beShrunk(this.activeSize, gmax1, gmax2)) { this.swap(t, this.activeSize); break; }
          this.activeSize--;
        }
      }
    }
  }

  /** WSS3 (second-order) selection; leaves column i in Qi. Returns false when optimal. */
  selectWorkingSet(): boolean {
    const { y, G, status, QD, Qi, eps } = this;
    const as = this.activeSize;
    let gmax = -Infinity;
    let gmax2 = -Infinity;
    let gmaxIdx = -1;
    let gminIdx = -1;
    let objDiffMin = Infinity;
    for (let t = 0; t < as; t++) {
      if (y[t] > 0) {
        if (status[t] !== UPPER && -G[t] >= gmax) { gmax = -G[t]; gmaxIdx = t; }
      } else if (status[t] !== LOWER && G[t] >= gmax) { gmax = G[t]; gmaxIdx = t; }
    }
    const i = gmaxIdx;
    let yi = 0;
    let qdi = 0;
    if (i !== -1) { this.getQ(i, as, Qi); yi = y[i]; qdi = QD[i]; }
    for (let j = 0; j < as; j++) {
      const gj = G[j];
      if (y[j] > 0) {
        if (status[j] !== LOWER) {
          const gradDiff = gmax + gj;
          if (gj >= gmax2) gmax2 = gj;
          if (gradDiff > 0) {
            const quad = qdi + QD[j] - 2.0 * yi * Qi[j];
            const objDiff = quad > 0 ? -(gradDiff * gradDiff) / quad : -(gradDiff * gradDiff) / TAU;
            if (objDiff <= objDiffMin) { gminIdx = j; objDiffMin = objDiff; }
          }
        }
      } else if (status[j] !== UPPER) {
        const gradDiff = gmax - gj;
        if (-gj >= gmax2) gmax2 = -gj;
        if (gradDiff > 0) {
          const quad = qdi + QD[j] + 2.0 * yi * Qi[j];
          const objDiff = quad > 0 ? -(gradDiff * gradDiff) / quad : -(gradDiff * gradDiff) / TAU;
          if (objDiff <= objDiffMin) { gminIdx = j; objDiffMin = objDiff; }
        }
      }
    }
    if (gmax + gmax2 < eps || gminIdx === -1) return false;
    this.outI = gmaxIdx;
    this.outJ = gminIdx;
    return true;
  }

  /**
   * The two-variable update of libsvm, then G, status and G_bar. Every comparison and difference the
   * clipping may need is computed before the branches pick one: V8 optimizes this method within the
   * first problem, and an operation first reached in optimized code (it has no type feedback) throws
   * the code away. On a fit thread's share of the seed grid this method was compiled 5 times, now 3
   * (~20 ms less compiling). Same operations on the same values: the same bits as libsvm's in-place form.
   */
  update(i: number, j: number): void {
    const { alpha, G, QD, Qi, Qj, y, status } = this;
    const as = this.activeSize;
    this.getQ(j, as, Qj); // Qi already holds column i (selectWorkingSet)
    const Ci = this.getC(i);
    const Cj = this.getC(j);
    const oldAi = alpha[i];
    const oldAj = alpha[j];
    let ai: number;
    let aj: number;
    if (y[i] !== y[j]) {
      let quad = QD[i] + QD[j] + 2 * Qi[j];
      if (quad <= 0) quad = TAU;
      const delta = (-G[i] - G[j]) / quad;
      const diff = oldAi - oldAj;
      ai = oldAi + delta;
      aj = oldAj + delta;
      this.track(ai, aj);
      const negDiff = -diff;
      const iNeg = ai < 0;
      const jNeg = aj < 0;
      if (diff > 0) {
        if (jNeg) { aj = 0; ai = diff; }
      } else if (iNeg) { ai = 0; aj = negDiff; }
      this.track(ai, aj);
      const split = Ci - Cj;
      const iAt = Ci - diff;
      const jAt = Cj + diff;
      const iOver = ai > Ci;
      const jOver = aj > Cj;
      if (diff > split) {
        if (iOver) { ai = Ci; aj = iAt; }
      } else if (jOver) { aj = Cj; ai = jAt; }
    } else {
      let quad = QD[i] + QD[j] - 2 * Qi[j];
      if (quad <= 0) quad = TAU;
      const delta = (G[i] - G[j]) / quad;
      const sum = oldAi + oldAj;
      ai = oldAi - delta;
      aj = oldAj + delta;
      this.track(ai, aj);
      this.track(sum, sum);
      const jAt = sum - Ci;
      const iOver = ai > Ci;
      const jNeg = aj < 0;
      if (sum > Ci) {
        if (iOver) { ai = Ci; aj = jAt; }
      } else if (jNeg) { aj = 0; ai = sum; }
      this.track(ai, aj);
      const iAt = sum - Cj;
      const jOver = aj > Cj;
      const iNeg = ai < 0;
      if (sum > Cj) {
        if (jOver) { aj = Cj; ai = iAt; }
      } else if (iNeg) { ai = 0; aj = sum; }
    }
    alpha[i] = ai;
    alpha[j] = aj;
    this.track(ai, aj);
    const dAi = ai - oldAi;
    const dAj = aj - oldAj;
    for (let k = 0; k < as; k++) G[k] += Qi[k] * dAi + Qj[k] * dAj;

    const ui = status[i] === UPPER;
    const uj = status[j] === UPPER;
    this.updateStatus(i);
    this.updateStatus(j);
    if (ui !== (status[i] === UPPER)) this.shiftGbar(i, ui ? -Ci : Ci, Qi);
    if (uj !== (status[j] === UPPER)) this.shiftGbar(j, uj ? -Cj : Cj, Qj);
  }

  /** G_bar += c·Q_t (c = ±C as t reaches or leaves its bound; x + (−C)·q is bitwise x − C·q). */
  shiftGbar(t: number, c: number, Qt: Float64Array): void {
    const { Gbar, l } = this;
    this.getQ(t, l, Qt);
    for (let k = 0; k < l; k++) Gbar[k] += c * Qt[k];
  }

  track(a: number, b: number): void {
    if (a > this.peak) this.peak = a;
    if (b > this.peak) this.peak = b;
  }

  /** libsvm's calculate_rho. */
  calculateRho(): number {
    const { y, G, status } = this;
    let nrFree = 0;
    let ub = Infinity;
    let lb = -Infinity;
    let sumFree = 0;
    for (let t = 0; t < this.activeSize; t++) {
      const yG = y[t] * G[t];
      if (status[t] === UPPER) {
        if (y[t] < 0) ub = Math.min(ub, yG); else lb = Math.max(lb, yG);
      } else if (status[t] === LOWER) {
        if (y[t] > 0) ub = Math.min(ub, yG); else lb = Math.max(lb, yG);
      } else {
        nrFree++;
        sumFree += yG;
      }
    }
    return nrFree > 0 ? sumFree / nrFree : (ub + lb) / 2;
  }
}

/**
 * Whether a solution found with box bound `solvedC` is, bit for bit, the solution for `C`: true
 * when the run never reached its bound (every comparison with C was false, so the path did not
 * depend on C) and `C` lies above every value it compared. Lets a grid reuse one solve for all
 * larger C values — the seed grid's C = 10/100/1000 at gamma = 1e-3 tie exactly for this reason.
 * (The same C always holds: the solver is deterministic.)
 */
export function solutionHoldsFor(sol: BinarySolution, solvedC: number, C: number): boolean {
  if (C === solvedC) return true; // the solver is deterministic
  return sol.converged && sol.peak < solvedC && sol.peak < C;
}

export function solveBinary(prob: BinaryProblem): BinarySolution {
  const s = new Solver(prob.K, prob.n, prob.rows, prob.y, prob.Cp, prob.Cn, prob.eps);
  const { l } = s;
  let iter = 0;
  let converged = true;
  let counter = Math.min(l, 1000) + 1;
  for (;;) {
    if (prob.maxIter !== -1 && iter >= prob.maxIter) { converged = false; break; }
    if (--counter === 0) {
      counter = Math.min(l, 1000);
      if (prob.shrinking) s.doShrinking();
    }
    if (!s.selectWorkingSet()) {
      s.reconstructGradient();
      s.activeSize = l;
      if (!s.selectWorkingSet()) break;
      counter = 1; // shrink at the next iteration
    }
    iter++;
    s.update(s.outI, s.outJ);
  }
  if (!converged) {
    // As libsvm when it stops at the iteration cap: full gradient before rho.
    s.reconstructGradient();
    s.activeSize = l;
  }
  const rho = s.calculateRho();
  const coef = new Float64Array(l);
  for (let t = 0; t < l; t++) coef[s.activeSet[t]] = s.alpha[t] * s.y[t];
  return { coef, rho, iterations: iter, converged, peak: s.peak };
}
