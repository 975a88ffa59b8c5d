// The computing side of one rank's grid search: the data, the plan and the kernel cache, running
// groups of fits and refit predictions on request. Pure compute, no I/O; fit-runner.ts runs it on this thread
// (a world of one) or on a worker thread, so the rank's own thread stays free for the mesh.
import { block } from '../collectives/blocks.js';
import {
  GridSearchCV, Matrix, runGroups, SearchCache, SVC,
  type ParamGridSpec, type SearchContext, type SearchPlan, type SVCBackend, type SVCParams, type TaskRecord,
} from '../ml/index.js';

/** Everything a fit worker needs (structured-cloneable: plain data and typed arrays). */
export interface FitWorkInit {
  grid: ParamGridSpec[];
  scoring: string[];
  cv: number;
  svmBackend: SVCBackend;
  XTrain: { rows: number; cols: number; data: Float64Array };
  yTrain: Int32Array;
  XTest: { rows: number; cols: number; data: Float64Array };
  yTest: Int32Array;
}

export class FitWork {
  private readonly ctx: SearchContext;
  private readonly XTest: Matrix;
  private readonly all: Int32Array;
  private readonly yf: Float64Array;
  /** Refit models by candidate: a rank predicting two parts of one refit fits it once. */
  private readonly refits = new Map<number, SVC>();

  constructor(private readonly init: FitWorkInit) {
    const XTrain = new Matrix(init.XTrain.rows, init.XTrain.cols, init.XTrain.data);
    this.XTest = new Matrix(init.XTest.rows, init.XTest.cols, init.XTest.data);
    const search = new GridSearchCV(new SVC({ backend: init.svmBackend }), init.grid, {
      scoring: init.scoring, cv: init.cv, refit: false, cache: new SearchCache(XTrain),
    });
    this.ctx = search.prepare(XTrain, init.yTrain);
    this.all = Int32Array.from({ length: XTrain.rows }, (_, i) => i);
    this.yf = Float64Array.from(init.yTrain);
  }

  get plan(): SearchPlan {
    return this.ctx.plan;
  }

  /** The records of the given groups' fits. */
  run(groupIds: readonly number[]): TaskRecord[] {
    return runGroups(this.ctx, groupIds);
  }

  /**
   * Candidate `c` refit on the whole training set, its predicted labels for part `part` of `parts` of
   * the test set (contiguous blocks, block()). Rows are predicted independently, so the parts
   * concatenated are the whole prediction, bit for bit: ranks share a refit's prediction.
   */
  predict(c: number, part = 0, parts = 1): Float64Array {
    let model = this.refits.get(c);
    if (!model) {
      model = new SVC({ backend: this.init.svmBackend }).clone(this.ctx.plan.candidates[c] as Partial<SVCParams>)
        .fitRows(this.ctx.cache, this.all, this.yf, this.ctx.memo);
      this.refits.set(c, model);
    }
    const { rows, cols, data } = this.XTest;
    const { start, end } = block(rows, parts, part);
    return model.predict(new Matrix(end - start, cols, data.subarray(start * cols, end * cols)));
  }
}
