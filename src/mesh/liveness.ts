import { readdirSync, readFileSync } from 'node:fs';

// What a rank on the same node can know for certain about another rank's process: its pid (reported in
// the handshake) is gone, stopped (SIGSTOP: frozen, it will not answer), or running — however slowly.
// "Slow is not dead": with many ranks per core a live rank answers late, and only this check, or a port
// that refuses connections, proves anything; silence does not.

export type PidState = 'gone' | 'stopped' | 'running';

/** Field 3 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces), or undefined. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined; // no /proc (not Linux), or it exited in between
  }
}

/** The state of process `pid` on this host (Linux /proc; elsewhere: gone or running). */
export function pidState(pid: number): PidState {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    // EPERM: it exists (another user's process took the pid: our rank is gone, but we cannot tell).
  }
  const state = procState(pid);
  if (state === 'Z' || state === 'X') return 'gone';
  if (state === 'T' || state === 't') return 'stopped';
  return 'running';
}

/**
 * Fencing (as HA clusters do it): ends a rank the others have given up on while it is stopped by a
 * signal (state T), so that it is dead in fact, never woken behind the survivors' backs — and no
 * launcher waits on it forever. A traced process (t: a debugger holds it) is left alone.
 */
export function fence(pid: number): boolean {
  if (procState(pid) !== 'T') return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * The pids of this user's processes on this host whose environment holds `needle` (e.g. the job's id),
 * with that environment. For a rank never met (its pid was never handshaken): a stopped rank's port still
 * accepts connections, so only its process shows it stopped. Reads /proc; undefined where there is none.
 */
export function processesWith(needle: string): Array<{ pid: number; env: Record<string, string> }> | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const out: Array<{ pid: number; env: Record<string, string> }> = [];
  for (const d of pids) {
    let raw: string;
    try {
      raw = readFileSync(`/proc/${d}/environ`, 'latin1');
    } catch {
      continue; // another user's process, or gone
    }
    if (!raw.includes(needle)) continue;
    const env: Record<string, string> = {};
    for (const kv of raw.split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    out.push({ pid: Number(d), env });
  }
  return out;
}
