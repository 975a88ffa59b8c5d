import '../polyfill.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { expandHostlist, compressHostlist } from '../../topology/index.js';
import { DEFAULT_SIZES, parseSizes } from './bench-sizes.js';
import type { BenchScalingOptions, Engine } from './bench-scaling.js';

/** The engines of bench scaling (kept here: the command line must not load the bench to parse). */
const ENGINES: Engine[] = ['flat', 'coordinator', 'dask', 'floor'];
import { SIDES, type Side } from '../../bench/startup.js';
import { exitOnError } from './errors.js';
import { UsageError } from '../errors.js';
import { MAX_EMULATED_NODES, MAX_LOCAL_RANKS } from '../launch/plan.js';
import { parseCv, parseRandomState, parseRanks, parseTestSize, SEED_SCORING, type GridsearchOptions } from './gridsearch-options.js';

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

function numberList(name: string, integer: boolean) {
  return (v: string): number[] => {
    const xs = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
    const bad = xs.find((x) => !/^\d+(\.\d+)?$/.test(x) || !(Number(x) > 0) || (integer && !Number.isInteger(Number(x))));
    if (xs.length === 0 || bad !== undefined) throw new InvalidArgumentError(`${name}: '${bad ?? v}' is not a positive ${integer ? 'whole ' : ''}number; give a comma-separated list`);
    return xs.map(Number);
  };
}

function engineList(v: string): Engine[] {
  const xs = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const bad = xs.find((x) => !ENGINES.includes(x as Engine));
  if (xs.length === 0 || bad !== undefined) throw new InvalidArgumentError(`--engines: '${bad ?? v}' is not an engine; use some of ${ENGINES.join(', ')}`);
  return xs as Engine[];
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number of seconds (0: no limit), got '${v}'`);
    return n;
  };
}

function parseRankList(v: string): number[] {
  const ps = v.split(',').map((x) => x.trim());
  const bad = ps.find((x) => !/^\d+$/.test(x) || Number(x) < 1);
  if (bad !== undefined || ps.length === 0) throw new InvalidArgumentError(`-n must list process counts ≥ 1, comma-separated (e.g. 2,8,32), got '${v}'`);
  return ps.map(Number);
}

function parseSides(v: string): Side[] {
  const ss = v.split(',').map((x) => x.trim());
  const bad = ss.find((x) => !SIDES.includes(x as Side));
  if (bad !== undefined) throw new InvalidArgumentError(`--sides: '${bad}' is not a side; use some of ${SIDES.join(', ')}`);
  return ss as Side[];
}

const program = new Command('commune')
  .description('Data-parallel jobs on a flat libp2p mesh of equal ranks')
  .enablePositionalOptions()
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program.command('launch')
  .description('start N local ranks of a command, like mpirun (each line of output prefixed with its rank)')
  .requiredOption('-n, --ranks <N>', 'number of ranks', positiveInt('-n'))
  .option('--nodes <K>', 'emulate K nodes: their ranks bind distinct loopback addresses 127.0.1.x', positiveInt('--nodes'), 1)
  .option('--keep-going', 'when a rank fails, let the others continue (default: stop them, unless the rank declared its death survivable — the workers of a co-ordinator job)', false)
  .option('--wait <S>', "as srun's --wait: S seconds after the first rank ends, end the ranks still running (a frozen rank on another node never ends by itself); 0: no limit", nonNegativeInt('--wait'), 0)
  .argument('<command...>', 'command and arguments (after --)')
  .passThroughOptions()
  .action(async (command: string[], o: { ranks: number; nodes: number; keepGoing: boolean; wait: number }) => {
    // Thrown from an action, commander's InvalidArgumentError would escape as a stack trace: UsageError is one line, exit 2.
    if (o.ranks > MAX_LOCAL_RANKS) throw new UsageError(`-n ${o.ranks}: a local launch starts at most ${MAX_LOCAL_RANKS} ranks (one Node process each); for more, launch across nodes with srun or mpirun`);
    if (o.nodes > o.ranks) throw new UsageError(`--nodes ${o.nodes} exceeds -n ${o.ranks}: every node needs a rank — lower --nodes or raise -n`);
    if (o.nodes > MAX_EMULATED_NODES) throw new UsageError(`--nodes ${o.nodes}: at most ${MAX_EMULATED_NODES} emulated nodes (their ranks bind 127.0.1.1 to 127.0.1.${MAX_EMULATED_NODES})`);
    const { launch } = await import('../launch/launcher.js');
    process.exitCode = await launch({ ranks: o.ranks, nodes: o.nodes, keepGoing: o.keepGoing, waitSeconds: o.wait, command });
  });

program.command('info')
  .description("what this rank sees: rank, size, local rank, node, listen addresses, launcher")
  .option('--json', 'one JSON object on one line')
  .option('--interface <name>', 'network interface to bind, e.g. ib0')
  .action(async (o: { json?: boolean; interface?: string }) => (await import('./info.js')).info(o));

program.command('hostlist')
  .description('expand a Slurm hostlist (one name per line), or compress names with --compress')
  .option('--compress', 'compress the given names into one hostlist expression')
  .argument('<items...>', 'a hostlist expression, or names with --compress')
  .action((items: string[], o: { compress?: boolean }) => {
    const out = o.compress ? [compressHostlist(items.flatMap((i) => i.split(',')).filter(Boolean))] : items.flatMap(expandHostlist);
    process.stdout.write(out.join('\n') + '\n');
  });

const bench = program.command('bench').description('benchmarks (not tests)');
bench.command('scaling')
  .description('flat engine vs co-ordinator vs Dask on real processes up to 256 ranks, beside the machine\'s floor; a model calibrated on the small cells, validated on the large ones, projected to 4096 ranks')
  .option('--quick', 'a smoke run (about a minute on 2 cores): p = 2, 4, tasks of 1 and 10 ms, 10 per rank; flat, co-ordinator, floor')
  .option('--p <list>', 'rank counts of the cells (default 2,8,32,64,128,256)', numberList('--p', true))
  .option('--task-ms <list>', 'task lengths in ms (default 1,10,100)', numberList('--task-ms', false))
  .option('--tasks-per-rank <list>', 'tasks per rank (default 10,100)', numberList('--tasks-per-rank', true))
  .option('--engines <list>', `which engines: ${ENGINES.join(',')} (default all; dask: a LocalCluster of p workers; floor: the same tasks in p plain processes)`, engineList)
  .option('--json <PATH>', 'write everything the tables print (cells, calibration, validation, projections, anchors) as JSON')
  .option('--svg <PATH>', 'write the efficiency plot (measured points, the model on this machine and on a cluster) as SVG')
  .option('--analyse <JSON>', 'print the tables, --svg and --json again from an earlier run\'s --json, without measuring')
  .addOption(new Option('--rank-mode', 'internal: run as one rank of a launched world').hideHelp())
  .addOption(new Option('--engine <E>', 'internal').choices(['flat', 'coordinator']).hideHelp())
  .addOption(new Option('--workload <W>', 'internal').hideHelp())
  .addOption(new Option('--tasks <N>', 'internal').argParser(Number).hideHelp())
  .addOption(new Option('--wait-tasks', 'internal: tasks wait instead of spinning').hideHelp())
  .action(async (o: BenchScalingOptions) => (await import('./bench-scaling.js')).benchScaling(o));
bench.command('startup')
  .description('start-up at P processes (init + 8 B allreduce + barrier + finish) beside the floor (P bare Node processes), mpi4py, Open MPI\'s C and Dask, alternating runs')
  .option('-n, --ranks <LIST>', 'process counts, comma-separated', parseRankList, [2, 8, 32, 64, 128, 256])
  .option('--reps <R>', 'runs of each side at each P, alternating', positiveInt('--reps'), 5)
  .option('--sides <LIST>', `sides to run, comma-separated: ${SIDES.join(', ')}`, parseSides, [...SIDES])
  .option('--timeout <S>', 'seconds one run may take', positiveInt('--timeout'), 600)
  .option('--json <PATH>', 'write every run, the fitted CPU exponent and the targets as JSON')
  .option('--svg <PATH>', 'write the plot of wall time against P as SVG')
  .action(async (o: { ranks: number[]; reps: number; sides: Side[]; timeout: number; json?: string; svg?: string }) => (await import('./bench-startup.js')).benchStartup(o));
bench.command('collectives')
  .description('OSU-style latency of allreduce, bcast, allgather and barrier on P rank processes, beside Open MPI over TCP loopback when installed')
  .option('-n, --ranks <P>', 'number of rank processes', positiveInt('-n'), 2)
  .option('--sizes <LIST>', 'message sizes, e.g. 8,1KiB,64KiB,1MiB', parseSizes, DEFAULT_SIZES)
  .option('--iterations <N>', 'timed iterations for every size (default: fewer for large sizes)', positiveInt('--iterations'))
  .option('--reps <R>', 'runs of each side, alternating; every row is the median run', positiveInt('--reps'), 5)
  .option('--json <PATH>', 'write all figures, the machine, the anchor and the ratios as JSON')
  .addOption(new Option('--rank-mode', 'internal: run as one rank of a launched world').hideHelp())
  .action(async (o: { ranks: number; sizes: number[]; iterations?: number; reps: number; json?: string; rankMode?: boolean }) => (await import('./bench.js')).benchCollectives(o));

program.command('gridsearch')
  .description("the seed's grid search (SVC on digits, precision and recall) on a flat world of equal ranks; prints the seed's text")
  .option('--ranks <N>', 'outside a launched world: start N local ranks (default: the number of CPUs); refused inside one', parseRanks)
  .option('--grid <FILE.json>', "scikit-learn param_grid: an object, or a list of objects, of value lists (default: the seed's grid)")
  .option('--scoring <a,b>', 'scorer names, comma-separated', SEED_SCORING.join(','))
  .option('--cv <K>', 'number of stratified folds', parseCv, 5)
  .option('--test-size <F>', 'fraction of the data held out for the final report', parseTestSize, 0.5)
  .option('--random-state <R>', 'seed of the train/test split', parseRandomState, 0)
  .option('--json <PATH>', 'write the results (scikit-learn key names) as JSON')
  .option('--quiet', 'print nothing (results only with --json)')
  .option('--data <PATH>', 'CSV or CSV.gz: numeric features then an integer label in the last column, no header (default: the digits data)')
  .addOption(new Option('--svm-backend <NAME>', 'SVC solver: smo (exact, default) or ml-svm').choices(['smo', 'ml-svm']).default('smo'))
  .option('--interface <NAME>', 'network interface to bind, e.g. ib0')
  .option('--checkpoint <DIR>', 'append completed fits to DIR (fsync) and skip fits already recorded there for this configuration')
  .addOption(new Option('--mode <MODE>', "flat: every rank an equal peer; coordinator: commune/compat's scheduler (rank 0), client (rank 1) and workers (ranks ≥ 2), default ranks CPUs + 2").choices(['flat', 'coordinator']).default('flat'))
  // A local job's ranks check the input themselves (gridsearch-local.ts); everything else loads gridsearch.ts.
  .action(async (o: GridsearchOptions) => {
    if (await (await import('./gridsearch-local.js')).launchLocal(o)) return;
    await (await import('./gridsearch.js')).gridsearch(o);
  });

program.parseAsync(process.argv).catch(exitOnError);
