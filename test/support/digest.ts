// A digest of a cv_results_ that changes with any bit of any value: typed arrays by their bytes,
// everything else by its JSON, keys sorted. Lets real-process tests compare results across processes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The `scorers` of a `gridsearch --json` file without the timing columns (the rest must be identical across runs). */
export function scorersWithoutTimings(path: string): unknown {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { scorers: Record<string, { cv_results: Record<string, unknown> }> };
  for (const s of Object.values(j.scorers)) for (const k of Object.keys(s.cv_results)) if (k.endsWith('_time')) delete s.cv_results[k];
  return j.scorers;
}

export function resultsDigest(cv: Record<string, unknown>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(cv).sort()) {
    const v = cv[k];
    h.update(k);
    if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else h.update(JSON.stringify(v) ?? 'undefined');
  }
  return h.digest('hex');
}
