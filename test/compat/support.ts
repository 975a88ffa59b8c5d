// Runs a compat fixture under the real local launcher and collects its prefixed output lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Line { rank: number; tag: string; value: Record<string, unknown> }
export interface Run { code: number | null; lines: Line[]; stdout: string; stderr: string; exitedAt: number }

/** Launches `node fixture args` on n ranks; `onLine` sees every parsed `[rank] TAG {json}` line as it arrives. */
export function launch(n: number, fixture: string, args: string[], o: { keepGoing?: boolean; reportExit?: boolean; nodeArgs?: string[]; env?: NodeJS.ProcessEnv; onLine?: (l: Line, child: ChildProcess) => void; timeoutMs?: number } = {}): { child: ChildProcess; done: Promise<Run> } {
  // reportExit: each rank's exit code as an `EXIT {"code":N}` line (a SIGKILL shows as 137).
  const cmd = o.reportExit
    ? ['sh', '-c', `"${process.execPath}" "$@"; echo "EXIT {\\"code\\":$?}"`, 'sh', ...(o.nodeArgs ?? []), fixture, ...args]
    : [process.execPath, ...(o.nodeArgs ?? []), fixture, ...args];
  const argv = [MAIN, 'launch', '-n', String(n), ...(o.keepGoing ? ['--keep-going'] : []), '--', ...cmd];
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lines: Line[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      const m = /^\[(\d+)\] ([A-Z_]+) (\{.*\})$/.exec(p);
      if (!m) continue;
      const l = { rank: Number(m[1]), tag: m[2], value: JSON.parse(m[3]) as Record<string, unknown> };
      lines.push(l);
      o.onLine?.(l, child);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 100_000);
  const done = new Promise<Run>((resolve) => child.once('close', (code) => { clearTimeout(timer); resolve({ code, lines, stdout, stderr, exitedAt: Date.now() }); }));
  return { child, done };
}

export function find(run: Run, tag: string, rank?: number): Line[] {
  return run.lines.filter((l) => l.tag === tag && (rank === undefined || l.rank === rank));
}
