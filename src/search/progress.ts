// Progress of a search across all ranks: every rank publishes its count of fits done over gossipsub
// (Mesh.publish, best effort); the printing rank sums the latest counts and shows them — a
// cli-progress bar with ETA on a TTY, a plain line at each 10% otherwise, nothing when quiet.
// A rank publishes at most every PUBLISH_EVERY_MS (each message is signed, sent and verified, and a
// display changes at human speed; one per fit group was dozens per rank), and not at all when the job
// is quiet (nobody shows it).
// When a driver relaunched the ranks (`commune gridsearch --ranks N`), the printing rank writes
// protocol lines (PROGRESS_PREFIX done total) to stdout instead and the driver renders them.
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { Mesh } from '../mesh/mesh.js';

// Loaded with the first bar (a TTY only): every rank process imports this module.
type CliProgress = typeof cliProgressModule;
let cliProgress: CliProgress | undefined;
const bars = (): CliProgress => (cliProgress ??= createRequire(import.meta.url)('cli-progress') as CliProgress);

export const PROGRESS_TOPIC = 'commune/gridsearch/progress/1';
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

/** One rank's side of the progress: counts its fits, publishes them, and (printing rank) renders the sum. */
export class SearchProgress {
  private readonly counts: number[];
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
  constructor(mesh: Mesh | Promise<Mesh> | undefined, private readonly rank: number, size: number, private readonly view: ProgressView | undefined, private readonly publishing = true) {
    this.counts = new Array<number>(size).fill(0);
    this.shown = !(mesh instanceof Promise);
    if (mesh instanceof Promise) mesh.then((m) => this.attach(m), () => {});
    else if (mesh) this.attach(mesh);
  }

  private attach(m: Mesh): void {
    if (this.finished) return;
    this.mesh = m;
    if (this.view) this.unsubscribe = m.subscribe(PROGRESS_TOPIC, (r, data) => this.onMessage(r, data));
    if (this.counts[this.rank] > 0) this.publish();
    this.shown = true;
    this.render();
  }

  /** Total fits to run in this search, across all ranks. */
  start(total: number): void {
    this.total = total;
    this.started = true;
    this.view?.update(0, total);
  }

  private onMessage(rank: number, data: Uint8Array): void {
    if (rank < 0 || rank >= this.counts.length || data.byteLength !== 4) return;
    const n = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
    if (n > this.counts[rank]) { this.counts[rank] = n; this.render(); }
  }

  private render(): void {
    if (!this.shown || !this.started) return;
    const done = this.counts.reduce((a, b) => a + b, 0);
    this.view?.update(Math.min(done, this.total), this.total);
  }

  /** This rank finished `n` more fits. */
  add(n: number): void {
    this.counts[this.rank] += n;
    this.render();
    this.publish();
  }

  private publish(): void {
    if (!this.publishing || !this.mesh || this.mesh.size <= 1 || this.finished || this.trailing) return;
    const wait = this.lastPublish + PUBLISH_EVERY_MS - performance.now();
    if (wait > 0) {
      this.trailing = setTimeout(() => { this.trailing = undefined; this.publish(); }, wait);
      this.trailing.unref();
      return;
    }
    this.lastPublish = performance.now();
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, this.counts[this.rank]);
    void this.mesh.publish(PROGRESS_TOPIC, b);
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
