// Output paths checked before any rank computes (issue 18): a search of minutes must not end in an
// error at its last step and lose its result. Each check is what the write will need — a directory
// that exists and takes new files — and fails with one line naming the option, the path and the fix.
import { accessSync, closeSync, constants, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { makeDirs } from '../search/checkpoint.js';

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** --json PATH: a file this process can create or replace (written whole at the end: temp file + rename). */
export function checkJsonPath(path: string): void {
  const full = resolve(path);
  const dir = dirname(full);
  let isDir: boolean;
  try { isDir = statSync(dir).isDirectory(); } catch (e) {
    throw new UsageError(`--json ${path}: the directory ${dir} does not exist (${code(e)}) — create it first or choose another path`);
  }
  if (!isDir) throw new UsageError(`--json ${path}: ${dir} is not a directory — choose another path`);
  if (statSync(full, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--json ${path}: is a directory — name a file in it, e.g. ${join(path, 'results.json')}`);
  writable(dir, `--json ${path}`);
}

/** --checkpoint DIR: a directory that exists, or is created now, and takes new files. */
export function checkCheckpointDir(dir: string): void {
  try { makeDirs(dir); } catch (e) {
    throw new UsageError(`--checkpoint ${dir}: cannot create the directory (${code(e)}) — choose a directory on a writable file system`);
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`--checkpoint ${dir}: is not a directory — choose another path`);
  writable(dir, `--checkpoint ${dir}`);
}

/** A file can be created in `dir` (permissions, read-only mounts and /proc-like file systems alike): made and removed. */
function writable(dir: string, what: string): void {
  const probe = join(dir, `.commune-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    accessSync(dir, constants.W_OK);
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    throw new UsageError(`${what}: cannot create files in ${dir} (${code(e)}) — choose a writable directory`);
  }
  try { unlinkSync(probe); } catch { /* gone already */ }
}
