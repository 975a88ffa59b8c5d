import { readFileSync } from 'node:fs';

// What a rank on the same node can know for certain about another rank's process: its pid (reported in
// the handshake) is gone, stopped (SIGSTOP: frozen, it will not answer), or running — however slowly.
// "Slow is not dead": with many ranks per core a live rank answers late, and only this check, or a port
// that refuses connections, proves anything; silence does not.

export type PidState = 'gone' | 'stopped' | 'running';

/** The state of process `pid` on this host (Linux /proc; elsewhere: gone or running). */
export function pidState(pid: number): PidState {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    // EPERM: it exists (another user's process took the pid: our rank is gone, but we cannot tell).
  }
  try {
    // Field 3 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return 'gone';
    if (state === 'T' || state === 't') return 'stopped';
  } catch {
    // no /proc (not Linux), or it exited in between
  }
  return 'running';
}
