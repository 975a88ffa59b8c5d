// A job under `commune launch` as a test drives it: real rank processes, every output line seen as it
// comes, so that a test can signal a rank at the phase it logs (never after a sleep).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface LaunchedJob { code: number | null; stdout: string; stderr: string; ms: number }

export interface LaunchJobOptions {
  /** Emulated nodes (`launch --nodes`). */
  nodes?: number;
  env?: NodeJS.ProcessEnv;
  /** Sees every line of the launcher's stdout and stderr (ranks' lines carry their `[rank] ` prefix). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Kills the launcher (and so the job) past this many ms: the test then fails on the code, not by hanging. */
  deadlineMs?: number;
}

/** `commune launch -n p --keep-going [--nodes k] -- cmd…`; resolves when the launcher exits. */
export function launchJob(p: number, cmd: string[], o: LaunchJobOptions = {}): Promise<LaunchedJob> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const args = [MAIN, 'launch', '-n', String(p), '--keep-going', ...(o.nodes ? ['--nodes', String(o.nodes)] : []), '--', ...cmd];
    const child = spawn(process.execPath, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const timer = o.deadlineMs ? setTimeout(() => child.kill('SIGKILL'), o.deadlineMs) : undefined;
    const feed = (which: 'stdout' | 'stderr') => {
      let buf = '';
      return (d: Buffer): void => {
        const s = d.toString();
        buf += s;
        out[which] += s;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          o.onLine?.(line, which);
        }
      };
    };
    child.stdout.on('data', feed('stdout'));
    child.stderr.on('data', feed('stderr'));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out, ms: Date.now() - t0 });
    });
  });
}

/** A rank's command that first says its pid (`[rank] PID n`), then becomes `commune …args`. */
export function communeRank(args: string[]): string[] {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return ['sh', '-c', `echo PID $$; exec "${process.execPath}" "${MAIN}" ${quoted}`];
}

/** Collects the `[rank] PID n` lines of communeRank jobs. */
export function pidCollector(): { pids: Map<number, number>; see(line: string): void } {
  const pids = new Map<number, number>();
  return {
    pids,
    see(line) {
      const m = /^\[(\d+)\] PID (\d+)$/.exec(line);
      if (m) pids.set(Number(m[1]), Number(m[2]));
    },
  };
}

/** The phase a debug-level gridsearch rank logged on this line (`{"rank":r,…,"phase":"x"}`), if any. */
export function phaseOf(line: string): { rank: number; phase: string } | undefined {
  const m = /^\[(\d+)\] \{.*"phase":"([a-z-]+)"/.exec(line);
  return m ? { rank: Number(m[1]), phase: m[2]! } : undefined;
}

/** How many results a gridsearch job printed (each ends with one `Time taken` line). */
export function resultsPrinted(stdout: string): number {
  return (stdout.match(/^(\[\d+\] )?Time taken: /gm) ?? []).length;
}

/** The ends of a job's output, for assertion messages. */
export function outputTail(r: LaunchedJob): string {
  return `\n--- stdout\n${r.stdout.slice(-1500)}\n--- stderr\n${r.stderr.slice(-3000)}`;
}
