// Benchmark (not a test): the seed example end to end (both scorers, refit, report), whole-process
// wall time of `node dist/examples/digits-gridsearch.js` against `python3 digits-gridsearch.py`
// (when python3-sklearn is installed), same invocation style, median of N runs, ratio printed.
// Also checks that both print identical text.
//   node dist/examples/digits-gridsearch-bench.js [runs=5]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const nodeScript = here('./digits-gridsearch.js');
const pyScript = here('../../examples/digits-gridsearch.py');

function time(cmd: string, args: string[]): { ms: number; stdout: string } | undefined {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) { process.stderr.write(`${cmd} failed: ${r.stderr ?? r.error}\n`); return undefined; }
  return { ms, stdout: r.stdout };
}
const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const ts: number[] = [];
const py: number[] = [];
let tsOut = '';
let pyOut = '';
for (let i = 0; i < runs; i++) {
  const a = time(process.execPath, [nodeScript]);
  if (!a) process.exit(1);
  ts.push(a.ms); tsOut = a.stdout;
  const b = time('/usr/bin/python3', [pyScript]);
  if (b) { py.push(b.ms); pyOut = b.stdout; }
}
console.log(`commune (node, single process): median ${median(ts).toFixed(0)} ms over ${runs} runs [${ts.map((t) => t.toFixed(0)).join(', ')}]`);
if (py.length === runs) {
  console.log(`scikit-learn (python3):          median ${median(py).toFixed(0)} ms over ${runs} runs [${py.map((t) => t.toFixed(0)).join(', ')}]`);
  console.log(`ratio commune / scikit-learn: ${(median(ts) / median(py)).toFixed(2)}× (target ≤ 0.5×)`);
  console.log(`printed output identical: ${tsOut === pyOut ? 'yes' : 'NO'}`);
} else {
  console.log('scikit-learn: not available (apt-get install python3-sklearn) — no ratio');
}
