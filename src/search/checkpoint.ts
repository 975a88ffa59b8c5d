// `--checkpoint DIR`: completed fit records appended durably (write + fsync per group of fits) to
// files in DIR named by the configuration hash; a re-run with the same configuration (at any rank
// count) reads them and skips those fits. A DIR holds one configuration: DIR/config.json records its
// hash, and a run with a different configuration is refused (exit 2).
//
// Each process appends to its own file (records-<hash>-<run id>-r<rank>.jsonl), so appends never
// interleave; a torn last line (a process killed mid-write) is ignored when reading. Every line carries
// a checksum of its content: a damaged record (a flipped digit would change the scores, and so the
// answer, silently) is skipped with a warning naming the file and line, and its fit is redone.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { TaskRecord } from '../ml/index.js';

interface Line { t: number; s: string; f: number; st: number; e?: string; c?: string }

/** The line's checksum: the first 64 bits of SHA-256 over its content, fields in a fixed order. */
function checksum(l: Line): string {
  const content: Line = { t: l.t, s: l.s, f: l.f, st: l.st };
  if (l.e !== undefined) content.e = l.e;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
}

function hexOf(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
}

function float64Of(hex: string): Float64Array {
  const b = Buffer.from(hex, 'hex');
  const out = new Float64Array(b.length / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** One record as a line (scores as the hex of their IEEE bytes, so NaN and -0 survive exactly). */
export function encodeRecordLine(r: TaskRecord): string {
  const l: Line = { t: r.task, s: hexOf(r.scores), f: r.fitTime, st: r.scoreTime };
  if (r.error !== undefined) l.e = r.error;
  l.c = checksum(l);
  return JSON.stringify(l) + '\n';
}

/** The record of a line, or undefined when the line is not one, or its checksum is missing or wrong. */
export function decodeRecordLine(text: string): TaskRecord | undefined {
  let l: Line;
  try { l = JSON.parse(text) as Line; } catch { return undefined; }
  if (typeof l !== 'object' || l === null || !Number.isInteger(l.t) || typeof l.s !== 'string' || !/^([0-9a-f]{16})+$/.test(l.s)) return undefined;
  if (typeof l.c !== 'string' || l.c !== checksum(l)) return undefined;
  const r: TaskRecord = { task: l.t, scores: float64Of(l.s), fitTime: Number(l.f) || 0, scoreTime: Number(l.st) || 0 };
  if (typeof l.e === 'string') r.error = l.e;
  return r;
}

function fsyncDir(dir: string): void {
  try { const fd = openSync(dir, 'r'); try { fsyncSync(fd); } finally { closeSync(fd); } } catch { /* not supported here */ }
}

/**
 * mkdir -p, one level at a time. Node's own recursive mkdirSync never returns for a path under /proc
 * (it keeps retrying the ENOENT that /proc gives for every new name): this one fails with that error.
 */
export function makeDirs(dir: string): void {
  const full = resolve(dir);
  try { if (statSync(full).isDirectory()) return; } catch { /* absent: made below */ }
  const parent = dirname(full);
  if (parent !== full) makeDirs(parent);
  try { mkdirSync(full); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** The configuration file of DIR: checks (or records) that DIR belongs to this configuration. */
export function claimCheckpointDir(dir: string, hash: string, summary: string, write = true): void {
  try { if (write) makeDirs(dir); } catch (e) {
    throw new UsageError(`--checkpoint ${dir}: cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const path = join(dir, 'config.json');
  let existing: { hash?: string; summary?: string } | undefined;
  try { existing = JSON.parse(readFileSync(path, 'utf8')) as { hash?: string; summary?: string }; } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`--checkpoint ${dir}: config.json is unreadable or damaged (${(e as Error).message}); remove it or use another directory`);
  }
  if (existing) {
    if (existing.hash !== hash) {
      throw new UsageError(`--checkpoint ${dir}: the directory holds the checkpoint of a different configuration (${existing.summary ?? 'unknown'}, hash ${String(existing.hash).slice(0, 12)}); ` +
        `this run is ${summary} (hash ${hash.slice(0, 12)}) — use another directory, or remove it to start afresh`);
    }
    return;
  }
  if (!write) return;
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try { writeSync(fd, JSON.stringify({ hash, summary }, null, 2) + '\n'); fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
  fsyncDir(dir);
}

/**
 * Every record in DIR for this configuration (first record of a task wins). A torn last line (no
 * newline: its writer was killed mid-write) is skipped quietly; any other line that is not an intact
 * record is skipped and reported to `onDamaged` (file, 1-based line), and so is a record file that
 * cannot be read.
 */
export function readCheckpoint(dir: string, hash: string, onDamaged: (file: string, line: number | undefined, why: string) => void = () => {}): TaskRecord[] {
  const prefix = `records-${hash}-`;
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl')).sort(); } catch { return []; }
  const byTask = new Map<number, TaskRecord>();
  for (const n of names) {
    const file = join(dir, n);
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (e) {
      onDamaged(file, undefined, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      continue;
    }
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      const r = decodeRecordLine(line);
      if (r) { if (!byTask.has(r.task)) byTask.set(r.task, r); return; }
      if (i < lines.length - 1) onDamaged(file, i + 1, 'not an intact record (bad checksum or format)');
    });
  }
  return [...byTask.values()].sort((a, b) => a.task - b.task);
}

/** This process's append-only record file. */
export class CheckpointWriter {
  private fd: number | undefined;
  readonly path: string;
  constructor(dir: string, hash: string, rank: number) {
    this.path = join(dir, `records-${hash}-${Date.now().toString(36)}${randomBytes(4).toString('hex')}-r${rank}.jsonl`);
  }

  /** Appends the records and fsyncs before returning. */
  append(records: readonly TaskRecord[]): void {
    if (records.length === 0) return;
    if (this.fd === undefined) {
      this.fd = openSync(this.path, 'a');
      fsyncDir(join(this.path, '..'));
    }
    writeSync(this.fd, records.map(encodeRecordLine).join(''));
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
