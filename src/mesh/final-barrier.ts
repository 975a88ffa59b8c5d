// Closing is collective, like MPI_Finalize: a dissemination barrier (⌈lg p⌉ rounds) makes sure no rank
// leaves while another may still need it. Best effort: a lost or late partner is skipped after the
// deadline, so a crashed rank never holds the others' exit.
// Cost: ⌈lg p⌉ rounds of one send and one receive per rank.

/** What the barrier needs of the mesh. */
export interface BarrierHost {
  readonly rank: number;
  readonly size: number;
  send(rank: number, tag: string, value: unknown): Promise<void>;
  recv(rank: number, tag: string, opts: { timeoutMs: number }): Promise<unknown>;
  /** A partner that never came: ended when it is stopped on this node (failure-detector.ts). */
  fenceIfStopped(rank: number, why: string): Promise<boolean>;
}

export async function finalBarrier(host: BarrierHost, timeoutMs: number): Promise<void> {
  const { rank, size } = host;
  const deadline = Date.now() + timeoutMs;
  for (let d = 1, round = 0; d < size; d *= 2, round++) {
    const to = (rank + d) % size;
    const from = (rank - d + size) % size;
    const left = Math.max(1, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    let came = false;
    // A send to a rank that never came up waits for the start-up deadline: not here.
    await Promise.race([
      Promise.all([
        host.send(to, `\u0000fin${round}`, null).catch(() => {}),
        host.recv(from, `\u0000fin${round}`, { timeoutMs: left }).then(() => { came = true; }, () => {}),
      ]),
      new Promise<void>((r) => { timer = setTimeout(r, left); }),
    ]);
    clearTimeout(timer);
    // Stopped on this node while the others end: nothing will ever wake it, and its launcher would
    // wait on it for good — fenced (liveness.ts), as the agreements fence a stopped rank.
    if (!came) await host.fenceIfStopped(from, 'stopped (frozen) while the others closed the mesh');
  }
}
