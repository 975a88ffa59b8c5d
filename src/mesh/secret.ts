import { randomBytes, createHash } from 'node:crypto';
import { openSync, writeSync, fsyncSync, closeSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

// The job secret: from the launcher or COMMUNE_SECRET, else a 0600 file in the user's home (shared by all
// nodes of a cluster through the home file system), created on first use. The file's secret is mixed
// with the job and step ids so each job gets its own keys — but the ids alone never make a secret.

export function secretFile(home = process.env.COMMUNE_HOME ?? join(homedir(), '.commune')): string {
  return join(home, 'secret');
}

function readSecret(path: string): string | undefined {
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) {
      throw new UsageError(`secret file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    }
    const text = readFileSync(path, 'utf8').trim();
    return text.length >= 32 ? text : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Reads the home secret, creating it atomically (O_EXCL) when missing; concurrent first runs agree. */
export function homeSecret(path = secretFile()): string {
  const existing = readSecret(path);
  if (existing) return existing;
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, randomBytes(32).toString('hex') + '\n');
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // Another rank may have created it an instant ago and still be writing: re-read until complete.
  for (let i = 0; i < 200; i++) {
    const s = readSecret(path);
    if (s) return s;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  throw new UsageError(`secret file ${path} exists but holds no secret; delete it and run again`);
}

export function resolveSecret(opts: { secret?: string; jobId: string; stepId: string; env?: NodeJS.ProcessEnv }): string {
  const env = opts.env ?? process.env;
  const given = opts.secret ?? env.COMMUNE_SECRET;
  if (given) return given;
  const base = homeSecret();
  return createHash('sha256').update(`${base}\0${opts.jobId}\0${opts.stepId}`).digest('hex');
}
