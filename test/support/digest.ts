// A digest of a cv_results_ that changes with any bit of any value: typed arrays by their bytes,
// everything else by its JSON, keys sorted. Lets real-process tests compare results across processes.
import { createHash } from 'node:crypto';

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
