// Benchmark (not a test): the seed workload (grid search of an SVC on digits, precision then recall)
// as whole-process wall time, side by side in one invocation:
//   1. commune  `node dist/src/cli/main.js gridsearch --ranks N --quiet --json <tmp>`, N = 1, 2, 4
//      (4 is oversubscribed on a 2-core machine); the JSON's wall_seconds is reported beside the
//      whole-process time measured here.
//   2. scikit-learn (anchor)  `/usr/bin/python3 bench/gridsearch_sklearn.py --n-jobs 1|2`
//   3. Dask (anchor)  `/usr/bin/python3 bench/gridsearch_dask.py` (LocalCluster 2×1 + joblib 'dask'
//      backend; cluster start-up reported separately from the search).
// Every configuration runs REPS times under GNU time (peak RSS of the largest process: one rank, one
// Python process or one Dask worker), in rounds (each configuration once per round, in turn, so the
// machine's busy spells hit them all); the table shows the median whole-process wall time, the ratio to
// scikit-learn n_jobs=1 and the peak RSS; a second table checks issue 5's targets (commune --ranks 2
// ≤ 0.5× scikit-learn n_jobs=2 and ≤ 0.25× Dask, ≤ 200 MiB per rank). A missing anchor prints
// `<anchor> skipped: <why>`, never a number.
// Finally checks that commune's best parameters per scorer equal scikit-learn's.
//
//   npx tsc -p . && node dist/bench/gridsearch.js [--reps N] [--json PATH]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench/gridsearch.js → repository root is two levels up.
const root = resolve(here, '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const PY = '/usr/bin/python3';
const SKLEARN_SCRIPT = join(root, 'bench', 'gridsearch_sklearn.py');
const DASK_SCRIPT = join(root, 'bench', 'gridsearch_dask.py');

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const REPS = Math.max(1, Number(argValue('--reps') ?? 5) | 0);
const JSON_OUT = argValue('--json');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface RunResult { seconds: number; code: number | null; stdout: string; stderr: string; maxRssMiB?: number }

const TIME = '/usr/bin/time';
const RSS_TAG = 'BENCH_MAXRSS_KB';

/**
 * Runs a command to completion; `seconds` is whole-process wall time (spawn → exit); `maxRssMiB` the
 * peak resident set of the largest process of the tree, from GNU time when installed.
 */
function run(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const timed = existsSync(TIME);
    const child = timed
      ? spawn(TIME, ['-f', `${RSS_TAG} %M`, cmd, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const m = new RegExp(`^${RSS_TAG} (\\d+)$`, 'm').exec(stderr);
      resolvePromise({ seconds: (performance.now() - t0) / 1000, code, stdout, stderr, maxRssMiB: m ? Number(m[1]) / 1024 : undefined });
    });
  });
}

type BestParams = Record<string, Record<string, unknown>>;

/** Canonical text of a parameter set: keys sorted, values as JSON. */
function canon(p: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
}

function parseBench(stdout: string): { best: BestParams; values: Map<string, number>; notes: string[] } {
  const best: BestParams = {};
  const values = new Map<string, number>();
  const notes: string[] = [];
  for (const line of stdout.split('\n')) {
    let m = /^BENCH_BEST (\S+) (.*)$/.exec(line);
    if (m) { best[m[1]] = JSON.parse(m[2]) as Record<string, unknown>; continue; }
    m = /^BENCH_NOTE (.*)$/.exec(line);
    if (m) { notes.push(m[1]); continue; }
    m = /^(BENCH_[A-Z_]+_SECONDS) (\S+)$/.exec(line);
    if (m) values.set(m[1], Number(m[2]));
  }
  return { best, values, notes };
}

interface Row {
  engine: string;
  workers: string;
  walls: number[];
  /** Peak RSS of the largest process per run, MiB. */
  rss: number[];
  /** Extra per-run figures (e.g. commune's own wall_seconds, dask cluster start-up). */
  extra: Record<string, number[]>;
  best?: BestParams;
  skipped?: string;
  failed?: string;
}

const fmt = (x: number, d = 3): string => x.toFixed(d);

/** One configuration: its table row, and one run of it that fills the row (a failure marks the row and stops the configuration). */
interface Config { row: Row & { notes?: string[] }; once: (rep: number) => Promise<void> }

/** A run into its row: its failure, or its wall time and peak RSS; whether it succeeded. */
function record(row: Row, r: RunResult, ok: boolean): boolean {
  if (!ok) {
    row.failed = `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
    return false;
  }
  row.walls.push(r.seconds);
  if (r.maxRssMiB !== undefined) row.rss.push(r.maxRssMiB);
  return true;
}

function communeConfig(ranks: number, tmp: string): Config {
  const row: Row = { engine: 'commune', workers: ranks > 2 ? `${ranks} ranks (oversubscribed)` : `${ranks} rank${ranks > 1 ? 's' : ''}`, walls: [], rss: [], extra: { wall_seconds: [] } };
  if (!existsSync(CLI)) row.skipped = `${CLI} not built (run npx tsc -p .)`;
  return {
    row,
    once: async (rep) => {
      const out = join(tmp, `commune-r${ranks}-${rep}.json`);
      const r = await run(process.execPath, [CLI, 'gridsearch', '--ranks', String(ranks), '--quiet', '--json', out]);
      if (!record(row, r, r.code === 0 && existsSync(out))) return;
      const j = JSON.parse(readFileSync(out, 'utf8')) as { wall_seconds: number; scorers: Record<string, { best_params: Record<string, unknown> }> };
      row.extra.wall_seconds.push(j.wall_seconds);
      const best: BestParams = {};
      for (const [name, sc] of Object.entries(j.scorers)) best[name] = sc.best_params;
      row.best = best;
    },
  };
}

function pythonHas(modules: string[]): string | undefined {
  if (!existsSync(PY)) return `${PY} not found`;
  const r = spawnSync(PY, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop() ?? 'import failed';
    return `${last} (apt-get install -y python3-sklearn python3-dask python3-distributed)`;
  }
  return undefined;
}

function pythonConfig(engine: string, workers: string, script: string, args: string[], modules: string[], extras: Record<string, string>): Config & { row: { notes: string[] } } {
  const row: Row & { notes: string[] } = { engine, workers, walls: [], rss: [], extra: {}, notes: [] };
  for (const k of Object.keys(extras)) row.extra[k] = [];
  const missing = pythonHas(modules);
  if (missing) row.skipped = missing;
  return {
    row,
    once: async () => {
      const r = await run(PY, [script, ...args]);
      if (!record(row, r, r.code === 0)) return;
      const p = parseBench(r.stdout);
      for (const [k, tag] of Object.entries(extras)) {
        const v = p.values.get(tag);
        if (v !== undefined) row.extra[k].push(v);
      }
      row.best = p.best;
      row.notes = p.notes;
    },
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const cpuModel = cpus()[0]?.model?.trim() ?? 'unknown';
  const nproc = availableParallelism();
  const tmp = mkdtempSync(join(tmpdir(), 'commune-bench-gs-'));

  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    // Rounds: every configuration once per round, in turn, so a busy spell of the shared machine
    // slows all of them rather than the one that happened to be running (each row is a median).
    const dask = pythonConfig('Dask (joblib backend)', '2 workers × 1 thread', DASK_SCRIPT, [], ['sklearn', 'dask', 'distributed'],
      { cluster_start_seconds: 'BENCH_CLUSTER_START_SECONDS', search_seconds: 'BENCH_SEARCH_SECONDS' });
    const configs: Config[] = [
      ...[1, 2, 4].map((ranks) => communeConfig(ranks, tmp)),
      ...[1, 2].map((nj) => pythonConfig('scikit-learn', `n_jobs=${nj}`, SKLEARN_SCRIPT, ['--n-jobs', String(nj)], ['sklearn'], { search_seconds: 'BENCH_SEARCH_SECONDS' })),
      dask,
    ];
    process.stderr.write(`gridsearch bench: ${REPS} rounds, each running every configuration once\n`);
    for (let rep = 0; rep < REPS; rep++) {
      process.stderr.write(`  round ${rep + 1} of ${REPS} ...\n`);
      for (const c of configs) if (!c.row.skipped && !c.row.failed) await c.once(rep);
    }
    notes.push(...dask.row.notes);
    rows.push(...configs.map((c) => c.row));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const anchor = rows.find((r) => r.engine === 'scikit-learn' && r.workers === 'n_jobs=1' && r.walls.length === REPS);
  const anchorWall = anchor ? median(anchor.walls) : undefined;

  const out: string[] = [];
  out.push(`## commune gridsearch vs scikit-learn vs Dask — seed workload (digits, SVC, 12 candidates × 5 folds × 2 scorers)`);
  out.push('');
  out.push(`machine: ${cpuModel}, nproc ${nproc}; date: ${date}; node ${process.version}; ${REPS} runs per row`);
  out.push('');
  out.push(`| engine | ranks/workers | wall s (median of ${REPS}) | ratio to scikit-learn n_jobs=1 | peak RSS MiB (largest process) |`);
  out.push('|---|---|---|---|---|');
  for (const r of rows) {
    if (r.skipped || r.failed || r.walls.length === 0) continue;
    const m = median(r.walls);
    const ratio = anchorWall !== undefined ? `${fmt(m / anchorWall, 2)}×` : 'n/a (anchor skipped)';
    out.push(`| ${r.engine} | ${r.workers} | ${fmt(m)} | ${ratio} | ${r.rss.length ? fmt(Math.max(...r.rss), 0) : 'n/a (GNU time missing)'} |`);
  }
  out.push('');
  out.push('wall s = whole-process wall time measured by this driver (spawn → exit, includes interpreter/runtime start-up and imports).');
  out.push('');
  // Issue 5's targets, same invocation.
  const med = (engine: string, workers: string): Row | undefined => rows.find((r) => r.engine === engine && r.workers === workers && r.walls.length > 0);
  const c2 = med('commune', '2 ranks');
  const targets: Array<[string, Row | undefined, number]> = [
    ['scikit-learn n_jobs=2', med('scikit-learn', 'n_jobs=2'), 0.5],
    ['Dask, 2 workers', rows.find((r) => r.engine.startsWith('Dask') && r.walls.length > 0), 0.25],
  ];
  out.push('| target (commune --ranks 2) | commune s | anchor s | ratio | target | met |');
  out.push('|---|---|---|---|---|---|');
  for (const [name, a, limit] of targets) {
    if (!c2 || !a) { out.push(`| vs ${name} | ${c2 ? fmt(median(c2.walls)) : 'n/a'} | skipped | | ≤ ${limit}× | |`); continue; }
    const ratio = median(c2.walls) / median(a.walls);
    out.push(`| vs ${name} | ${fmt(median(c2.walls))} | ${fmt(median(a.walls))} | ${fmt(ratio, 2)}× | ≤ ${limit}× | ${ratio <= limit ? 'yes' : 'no'} |`);
  }
  if (c2?.rss.length) {
    const peak = Math.max(...c2.rss);
    out.push(`| peak RSS per rank | ${fmt(peak, 0)} MiB | | | ≤ 200 MiB | ${peak <= 200 ? 'yes' : 'no'} |`);
  }
  out.push('');
  out.push('Internal figures (median of the runs):');
  for (const r of rows) {
    if (r.skipped || r.failed || r.walls.length === 0) continue;
    const parts = Object.entries(r.extra).filter(([, v]) => v.length > 0).map(([k, v]) => {
      const label = k === 'wall_seconds' ? 'self-reported wall_seconds' : k === 'cluster_start_seconds' ? 'cluster start-up s' : 'GridSearchCV.fit total s (both scorers)';
      return `${label} ${fmt(median(v))}`;
    });
    out.push(`- ${r.engine} ${r.workers}: runs ${r.walls.map((w) => fmt(w, 2)).join(', ')} s${parts.length ? '; ' + parts.join('; ') : ''}`);
  }
  for (const r of rows) {
    if (r.skipped) out.push(`${r.engine} ${r.workers} skipped: ${r.skipped}`);
    else if (r.failed) out.push(`${r.engine} ${r.workers} skipped: run failed (${r.failed})`);
  }
  for (const n of notes) out.push(`note: ${n}`);
  out.push('');

  // Results check: commune's best_params per scorer vs scikit-learn n_jobs=1's.
  const sk = rows.find((r) => r.engine === 'scikit-learn' && r.best)?.best;
  const communeRows = rows.filter((r) => r.engine === 'commune' && r.best);
  let identical: string;
  if (!sk) identical = 'not checked (scikit-learn anchor skipped)';
  else if (communeRows.length === 0) identical = 'not checked (no commune run succeeded)';
  else {
    const diffs: string[] = [];
    for (const r of communeRows) {
      const names = new Set([...Object.keys(sk), ...Object.keys(r.best!)]);
      for (const n of names) {
        const a = r.best![n];
        const b = sk[n];
        if (!a || !b || canon(a) !== canon(b)) diffs.push(`${r.workers} ${n}: commune ${JSON.stringify(a)} vs sklearn ${JSON.stringify(b)}`);
      }
    }
    for (const [n, p] of Object.entries(sk)) out.push(`best params ${n}: scikit-learn ${JSON.stringify(p)}; commune ${communeRows.map((r) => JSON.stringify(r.best![n])).join(' / ')}`);
    identical = diffs.length === 0 ? 'yes' : `no (${diffs.join('; ')})`;
  }
  out.push(`results identical: ${identical}`);
  const total = (performance.now() - started) / 1000;
  out.push(`benchmark took ${fmt(total, 1)} s`);
  console.log(out.join('\n'));

  if (JSON_OUT) {
    writeFileSync(JSON_OUT, JSON.stringify({ date, cpu: cpuModel, nproc, reps: REPS, rows, notes, identical, total_seconds: total }, null, 2));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
