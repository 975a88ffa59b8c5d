import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { constants } from 'node:os';
import { EVICTED_EXIT_CODE, PARTITIONED_EXIT_CODE, USAGE_EXIT_CODE } from '../errors.js';
import { planLaunch, rankEnv } from './plan.js';
import { CONTROL_FD_ENV, SURVIVABLE } from './control.js';
import type { Readable } from 'node:stream';
import { pidState } from '../mesh/liveness.js';

export interface LaunchOptions {
  ranks: number;
  nodes: number;
  keepGoing: boolean;
  /** srun's --wait: this many seconds after the first rank ends, the others are ended; 0 or undefined: no limit. */
  waitSeconds?: number;
  command: string[];
  /** Receives every output line of every rank (default: written to this process's stdout/stderr prefixed `[rank] `). */
  onLine?: (rank: number, stream: 'stdout' | 'stderr', line: string) => void;
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  /** Exit codes not reported on stderr: the rank explained them itself (still the launch's result). */
  quietExitCodes?: number[];
}

function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', onLine);
    rl.on('close', resolve);
  });
}

const prefixed = (rank: number, stream: 'stdout' | 'stderr', line: string): void => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(`[${rank}] ${line}\n`);
};

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return code ?? 1;
}

/**
 * With --keep-going a job whose lost ranks (killed by a signal, evicted by the others, or stopped on
 * the minority side of a partition) were survived is complete: some rank succeeded and every other
 * failure is a lost rank.
 */
export function survivedExit(outcomes: ReadonlyArray<{ code: number | null; signal: NodeJS.Signals | null }>): boolean {
  return outcomes.some((o) => o.code === 0) &&
    outcomes.every((o) => o.code === 0 || o.signal !== null || o.code === EVICTED_EXIT_CODE || o.code === PARTITIONED_EXIT_CODE);
}

/** How long the siblings of a rank that exited on bad input get to exit by themselves. */
const USAGE_GRACE_MS = 2000;

/** 128 + SIGPIPE: what a shell reports for a writer whose reader went away. */
const SIGPIPE_EXIT_CODE = 141;

/**
 * Every rank exists before any runs: each starts as a shell that waits for one line on its stdin and
 * then becomes the command (exec: the same pid). Spawned directly, 256 ranks on two cores took half
 * a minute to exist — the first ones' start-up starved the launcher — and a rank not spawned yet
 * looks to its neighbours like one that died.
 */
const GATE = ['-c', 'read _gate; exec "$@"', 'commune-rank'];

/** Whether `command` can be run: a path that exists, or a name found on PATH. */
function runnable(command: string, path: string | undefined): boolean {
  const ok = (f: string): boolean => { try { accessSync(f, fsConstants.X_OK); return statSync(f).isFile(); } catch { return false; } };
  if (command.includes('/')) return ok(command);
  return (path ?? '').split(':').some((dir) => ok(join(dir || '.', command)));
}

/**
 * Starts `ranks` local processes like mpirun; resolves with the first non-zero exit code, or 0 (also
 * with --keep-going when the survivors completed the job without the ranks that were lost).
 */
export async function launch(opts: LaunchOptions): Promise<number> {
  const plan = planLaunch(opts.ranks, opts.nodes, hostname());
  const secret = randomBytes(32).toString('hex');
  const jobId = `local-${process.pid}-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  let firstFailure = 0;
  let stopping = false;
  let waitTimer: NodeJS.Timeout | undefined;
  const outcomes: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];
  /** Ranks whose death the job survives by design (they said so: control.ts), e.g. Dask-style workers. */
  const survivable = new Set<number>();

  const running = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
  const stopOthers = (): void => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (running(c)) c.kill('SIGTERM');
    // A rank that ignores SIGTERM is not allowed to hold the launch open.
    setTimeout(() => { for (const c of children) if (running(c)) c.kill('SIGKILL'); }, 5000).unref();
  };
  // --wait: the ranks still running are ended like lost ranks (with --keep-going the survivors' job
  // still counts as complete); a stopped process acts on SIGTERM only once continued: SIGKILL at once.
  const endStragglers = (): void => {
    const left = children.flatMap((c, r) => (running(c) ? [r] : []));
    if (left.length === 0) return;
    process.stderr.write(`commune launch: ${left.length === 1 ? 'rank' : 'ranks'} ${left.join(', ')} still running ${opts.waitSeconds} s after the first rank ended (--wait); ending ${left.length === 1 ? 'it' : 'them'}\n`);
    for (const r of left) children[r]!.kill(pidState(children[r]!.pid!) === 'stopped' ? 'SIGKILL' : 'SIGTERM');
    setTimeout(() => { for (const r of left) if (running(children[r]!)) children[r]!.kill('SIGKILL'); }, 5000).unref();
  };
  const forward = (sig: NodeJS.Signals) => () => { stopping = true; for (const c of children) c.kill(sig); };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  // Whoever read our output went away (`commune launch … | head`): stop the ranks and end quietly with
  // 141, as a pipeline's writer ends on SIGPIPE — not with a stack trace for every further line.
  let pipeClosed = false;
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    if (e.code !== 'EPIPE' && !pipeClosed) throw e;
    pipeClosed = true;
    stopOthers();
  };
  process.stdout.on('error', onStdoutError);

  const env = { ...process.env, ...opts.env };
  if (!runnable(opts.command[0]!, env.PATH)) {
    process.stderr.write(`commune launch: cannot start ${opts.command[0]}: no such command (not a file, nor found on PATH)\n`);
    return 127;
  }
  const done = plan.rankNode.map((_, rank) => {
    const child = spawn('/bin/sh', [...GATE, ...opts.command], {
      env: { ...env, ...rankEnv(plan, rank, jobId, secret), [CONTROL_FD_ENV]: '3' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    child.stdin!.on('error', () => { /* a rank gone before the gate opened: its exit says so */ });
    // Not awaited: a process the rank started may hold the pipe open after the rank has gone.
    void eachLine(child.stdio[3] as Readable, (l) => { if (l === SURVIVABLE) survivable.add(rank); });
    children.push(child);
    const tag = `[${rank}] `;
    const onLine = opts.onLine ?? prefixed;
    const outputs = Promise.all([eachLine(child.stdout!, (l) => onLine(rank, 'stdout', l)), eachLine(child.stderr!, (l) => onLine(rank, 'stderr', l))]);
    return new Promise<void>((resolve) => {
      child.on('error', (e) => {
        process.stderr.write(`${tag}cannot start ${opts.command[0]}: ${e.message}\n`);
        if (!firstFailure) firstFailure = 127;
        if (!opts.keepGoing) stopOthers();
        resolve();
      });
      child.on('exit', (code, signal) => {
        outcomes[rank] = { code, signal };
        if (opts.waitSeconds && !waitTimer && !stopping) waitTimer = setTimeout(endStragglers, opts.waitSeconds * 1000).unref();
        const rc = exitCodeOf(code, signal);
        if (rc !== 0 && survivable.has(rank)) {
          if (!stopping) process.stderr.write(`commune launch: rank ${rank} exited with ${signal ?? `code ${code}`}; it was a worker, whose tasks the scheduler runs elsewhere: the job goes on\n`);
        } else if (rc !== 0 && !firstFailure) {
          firstFailure = rc;
          if (!stopping && !opts.quietExitCodes?.includes(rc)) process.stderr.write(`commune launch: rank ${rank} exited with ${signal ?? `code ${code}`}${opts.keepGoing ? '' : '; stopping the other ranks'}\n`);
          // Bad input (exit 2) is found by every rank at start: let them say so and exit themselves (the
          // one that explains it may be a moment behind), stopping only those still running after that.
          if (!opts.keepGoing) { if (rc === USAGE_EXIT_CODE) setTimeout(stopOthers, USAGE_GRACE_MS).unref(); else stopOthers(); }
        }
        void outputs.then(() => resolve());
      });
    });
  });
  for (const c of children) c.stdin!.end('\n');
  await Promise.all(done);
  for (const c of children) (c.stdio[3] as Readable).destroy();
  clearTimeout(waitTimer);
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  process.stdout.off('error', onStdoutError);
  if (pipeClosed) return SIGPIPE_EXIT_CODE;
  if (firstFailure !== 0 && opts.keepGoing && !stopping && outcomes.length === children.length && survivedExit(outcomes)) {
    const lost = outcomes.flatMap((o, r) => (o.code === 0 ? [] : [r]));
    process.stderr.write(`commune launch: the job completed without lost ${lost.length === 1 ? 'rank' : 'ranks'} ${lost.join(', ')} (--keep-going): exit 0\n`);
    return 0;
  }
  return firstFailure;
}
