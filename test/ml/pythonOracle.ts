// Optional cross-check against a local scikit-learn (Debian python3-sklearn). Tests using it
// are marked pending ("skipped") when Python or scikit-learn is absent; nothing else needs Python.
import { spawnSync } from 'node:child_process';

let available: boolean | undefined;

export function sklearnAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { encoding: 'utf8' });
    available = r.status === 0;
  }
  return available;
}

/** Runs a Python snippet that prints one JSON document on stdout. */
export function runPython(code: string): unknown {
  const r = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
