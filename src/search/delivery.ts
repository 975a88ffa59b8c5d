// Delivering a job's result is part of the job: exactly one survivor prints it and writes its files,
// and a printer that dies before it has done so is replaced by the next.
//
// The lowest live rank delivers, then the survivors agree (resilient-rounds.ts) that it did; if it is
// lost first, the next round's lowest delivers. Printing cannot be undone, so the one dangerous moment
// is a printer dying after its output but before anyone knows: its replacement would print a second
// time. So every other survivor waits for the printer's word, which it sends to each of them in the
// same turn of its event loop as its last write (p − 1 small messages, once per job, over channels it
// opened before it wrote: a dial is asynchronous); a survivor that has it says so in its payload, and
// the round counts as delivered even without the printer. `deliver` prepares everything first and
// only writes at the end, so what remains is the printer dying between a few system calls of one
// synchronous run — a rename, a write, and its words.
import { PeerTimeoutError } from '../errors.js';
import type { Mesh } from '../mesh/mesh.js';
import { runRounds, type Survivors } from './resilient-rounds.js';

const NOTICE = 'search/delivered';
/** Sent before the output, to open the printer's channel to every survivor (never read). */
const OPEN = 'search/delivering';

interface Word { delivered: boolean; heard?: boolean }

/**
 * Collective over `world.alive`: `deliver` runs on exactly one survivor (the lowest live one, or the
 * next when it dies first), given the ranks lost in the delivery so far; `onDelivered` once its output
 * and its words are out. Returns the ranks lost in the delivery.
 */
export async function deliverOnce(world: Survivors, deliver: (lost: readonly number[]) => void, onDelivered?: () => void): Promise<number[]> {
  let done = false;
  let alive = [...world.alive];
  const lost: number[] = [];
  const mesh = alive.length > 1 ? await world.mesh : undefined;
  await runRounds<Word>({ ...world, mesh }, {
    what: 'delivery',
    pending: () => (done ? [] : [0]),
    share: (pending, _n, index) => (index === 0 ? [...pending] : []),
    run: async (mine, round) => {
      const printer = alive[0]!;
      const tag = `${NOTICE}/${round}`;
      if (mine.length > 0) {
        const others = alive.filter((r) => r !== world.rank);
        let timer: NodeJS.Timeout | undefined;
        // Bounded: a survivor cut off behind a partition must not hold the delivery up.
        await Promise.race([
          Promise.allSettled(others.map((r) => mesh!.send(r, OPEN, round))),
          new Promise<void>((r) => { timer = setTimeout(r, world.livenessMs); }),
        ]);
        clearTimeout(timer);
        deliver(lost);
        for (const r of others) mesh!.send(r, tag, 1).catch(() => {});
        onDelivered?.();
        return { delivered: true };
      }
      return { delivered: false, heard: await awaitWord(mesh!, printer, tag, world.livenessMs) };
    },
    absorb: (payloads, _round, dead) => {
      lost.push(...dead);
      alive = payloads.map(([r]) => r);
      if (payloads.some(([, w]) => w.delivered || w.heard)) done = true;
    },
  });
  return lost;
}

/**
 * Waits for the printer's word while it lives: false once it is lost, or silent and not running (a
 * stopped or unreachable printer is the agreement's to judge; this only stops waiting for it).
 */
async function awaitWord(mesh: Mesh, printer: number, tag: string, livenessMs: number): Promise<boolean> {
  for (;;) {
    try {
      await mesh.recv(printer, tag, { timeoutMs: livenessMs, what: 'the printer\'s word that it delivered' });
      return true;
    } catch (e) {
      if (!(e instanceof PeerTimeoutError)) return false;
      if (!(await mesh.ping(printer, livenessMs)) && mesh.processState(printer) !== 'running') return false;
    }
  }
}
