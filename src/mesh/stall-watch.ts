// Notices when this process stopped running for a while: a timer that fires late by more than a
// second means the event loop was held (a long synchronous fit) or the process was frozen (SIGSTOP,
// swapping). A rank silent past the liveness deadline may have been declared lost by the others, so
// it must not trust its own view of who died until a live peer confirms it (tree-agreement.ts).
const TICK_MS = 250;

/** A time the event loop did not run: from `start` to `end` (ms since the epoch). */
export interface Stall { start: number; end: number }
const KEPT = 16;

export class StallWatch {
  private last = Date.now();
  private readonly stalls: Stall[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    const gap = now - this.last - TICK_MS;
    this.last = now;
    if (gap > 1000) {
      this.stalls.push({ start: now - gap, end: now });
      if (this.stalls.length > KEPT) this.stalls.shift();
    }
  }

  /** The stalls that ended after `since` (ms since the epoch), counting one still going on. */
  since(since: number): Stall[] {
    this.tick();
    return this.stalls.filter((s) => s.end > since);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
