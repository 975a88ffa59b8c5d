// Progress of a search across all ranks, summed along a binomial tree rooted at rank 0, the rank that
// shows it: every rank sends its parent the count of fits done in its subtree (its own and its
// children's latest), so a rank sends to one rank and hears from at most lg p — O(log p) messages per
// rank whatever the world's size, where every rank publishing to the printing rank would be p per
// update at one rank. Rank 0 shows the sum — a cli-progress bar with ETA on a TTY, a plain line at
// each 10% otherwise, nothing when quiet. A rank sends at most every PUBLISH_EVERY_MS (a display changes
// at human speed; one message per fit group was dozens per rank), and not at all when the job is quiet
// (nobody shows it). Best effort: a lost parent is passed over for its own parent.
// When a driver relaunched the ranks (`commune gridsearch --ranks N`), the printing rank writes
// protocol lines (PROGRESS_PREFIX done total) to stdout instead and the driver renders them.
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { Mesh } from '../mesh/mesh.js';

// Loaded with the first bar (a TTY only): every rank process imports this module.
type CliProgress = typeof cliProgressModule;
let cliProgress: CliProgress | undefined;
const bars = (): CliProgress => (cliProgress ??= createRequire(import.meta.url)('cli-progress') as CliProgress);

export const PROGRESS_TAG = 'gridsearch/progress';
export const PROGRESS_PREFIX = '\u001ecommune-progress ';
/** Shortest interval between one rank's progress messages, ms; the latest count follows at the end of it. */
export const PUBLISH_EVERY_MS = 100;

export type ProgressMode = 'bar' | 'lines' | 'pipe' | 'none';

/** Renders (done, total) updates: a bar, plain lines at 10% steps, protocol lines, or nothing. */
export class ProgressView {
  private bar?: cliProgressModule.SingleBar;
  private lastStep = -1;
  private readonly t0 = performance.now();
  private last = -1;

  constructor(readonly mode: ProgressMode, private readonly err: NodeJS.WritableStream = process.stderr, private readonly out: NodeJS.WritableStream = process.stdout) {}

  update(done: number, total: number): void {
    if (this.mode === 'none' || done === this.last) return;
    this.last = done;
    if (this.mode === 'pipe') { this.out.write(`${PROGRESS_PREFIX}${done} ${total}\n`); return; }
    if (this.mode === 'bar') {
      if (!this.bar) {
        const { SingleBar, Presets } = bars();
        this.bar = new SingleBar({ format: 'fits {bar} {value}/{total} {percentage}% | ETA {eta_formatted}', stream: this.err, etaBuffer: 20, hideCursor: false }, Presets.shades_classic);
        this.bar.start(total, 0);
      }
      this.bar.setTotal(total);
      this.bar.update(done);
      return;
    }
    const step = total === 0 ? 10 : Math.floor((done * 10) / total);
    if (step <= this.lastStep) return;
    this.lastStep = step;
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = done > 0 && done < total ? `, ETA ${Math.ceil((elapsed * (total - done)) / done)} s` : '';
    this.err.write(`gridsearch: ${done}/${total} fits (${total === 0 ? 100 : Math.floor((done * 100) / total)}%)${eta}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** The mode for this process: quiet → none; relaunched by a driver → pipe; TTY → bar; else lines. */
export function progressMode(quiet: boolean | undefined, env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): ProgressMode {
  if (quiet) return 'none';
  if (env.COMMUNE_PROGRESS_PIPE === '1') return 'pipe';
  return isTTY ? 'bar' : 'lines';
}

/** The rank `rank` reports progress to: itself with its lowest set bit cleared, passing over lost ranks; undefined for rank 0, the root. */
export function progressParent(rank: number, isLost: (r: number) => boolean = () => false): number | undefined {
  let r = rank;
  while (r !== 0) {
    r &= r - 1;
    if (!isLost(r)) return r;
  }
  return undefined;
}

/** One rank's side of the progress: counts its fits, sums its subtree's, reports up the tree, and (rank 0) renders the total. */
export class SearchProgress {
  private own = 0;
  /** The latest subtree count each child reported. */
  private readonly children = new Map<number, number>();
  private unsubscribe: () => void = () => {};
  private total = 0;
  private mesh?: Mesh;
  private finished = false;

  /** Until the mesh is up only this rank's count is known: nothing past 0 is shown before then. */
  private shown: boolean;
  private started = false;
  private lastPublish = -Infinity;
  private trailing?: NodeJS.Timeout;

  /**
   * `mesh` may still be joining: counts are cumulative, so the first publish after it joins catches up.
   * `publishing`: false when no rank shows progress (a quiet job).
   */
  constructor(mesh: Mesh | Promise<Mesh> | undefined, private readonly rank: number, private readonly size: number, private readonly view: ProgressView | undefined, private readonly publishing = true) {
    this.shown = !(mesh instanceof Promise);
    if (mesh instanceof Promise) mesh.then((m) => this.attach(m), () => {});
    else if (mesh) this.attach(mesh);
  }

  private attach(m: Mesh): void {
    if (this.finished) return;
    this.mesh = m;
    if (this.publishing) this.unsubscribe = m.serve(PROGRESS_TAG, (r, n) => this.onMessage(r, n));
    if (this.subtree() > 0) this.publish();
    this.shown = true;
    this.render();
  }

  /** Total fits to run in this search, across all ranks. */
  start(total: number): void {
    this.total = total;
    this.started = true;
    this.view?.update(0, total);
  }

  private onMessage(child: number, n: unknown): void {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || child <= this.rank || child >= this.size) return;
    if (n <= (this.children.get(child) ?? -1)) return;
    this.children.set(child, n);
    this.render();
    this.publish();
  }

  /** Fits done in this rank's subtree, as far as it knows. */
  private subtree(): number {
    let s = this.own;
    for (const n of this.children.values()) s += n;
    return s;
  }

  private render(): void {
    if (!this.shown || !this.started) return;
    this.view?.update(Math.min(this.subtree(), this.total), this.total);
  }

  /** This rank finished `n` more fits. */
  add(n: number): void {
    this.own += n;
    this.render();
    this.publish();
  }

  private publish(): void {
    const mesh = this.mesh;
    if (!this.publishing || !mesh || this.finished || this.trailing) return;
    const parent = progressParent(this.rank, (r) => mesh.isLost(r) !== undefined);
    if (parent === undefined) return;
    const wait = this.lastPublish + PUBLISH_EVERY_MS - performance.now();
    if (wait > 0) {
      this.trailing = setTimeout(() => { this.trailing = undefined; this.publish(); }, wait);
      this.trailing.unref();
      return;
    }
    this.lastPublish = performance.now();
    mesh.send(parent, PROGRESS_TAG, this.subtree()).catch(() => {});
  }

  /** The search is over (all ranks' records gathered): show the total and stop. */
  finish(): void {
    this.finished = true;
    clearTimeout(this.trailing);
    this.view?.update(this.total, this.total);
    this.view?.stop();
    this.unsubscribe();
  }
}
