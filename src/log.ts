import { createRequire } from 'node:module';
import type { Logger, LogFn, pino as Pino } from 'pino';

// Logs go to stderr (stdout carries results only), synchronously so nothing is lost when a rank exits.
// pino loads with the first line written at an enabled level, not with the first logger: a rank of
// a job that goes well writes nothing at the default level (warn) and never loads pino's ~35 modules
// (~20 ms of loading).
let root: Logger | undefined;

function rootLogger(): Logger {
  if (!root) {
    const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof Pino };
    root = pino({ level: process.env.COMMUNE_LOG_LEVEL ?? 'warn', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  }
  return root;
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type Level = Exclude<keyof typeof LEVELS, 'silent'>;

/** The part of pino's Logger the project uses. */
export interface RankLogger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  isLevelEnabled(level: Level): boolean;
}

/** What is wrong with COMMUNE_LOG_LEVEL, or undefined (pino would throw deep inside its first log line). */
export function badLogLevel(value: string | undefined = process.env.COMMUNE_LOG_LEVEL): string | undefined {
  if (value === undefined || Object.hasOwn(LEVELS, value)) return undefined;
  return `COMMUNE_LOG_LEVEL='${value}' is not a log level: use one of ${Object.keys(LEVELS).join(', ')} (default warn)`;
}

/** The threshold of COMMUNE_LOG_LEVEL; undefined for a name pino must judge (it throws on unknown levels). */
function threshold(): number | undefined {
  const name = process.env.COMMUNE_LOG_LEVEL ?? 'warn';
  return Object.hasOwn(LEVELS, name) ? LEVELS[name as keyof typeof LEVELS] : undefined;
}

/** A logger whose every line carries the rank. */
export function rankLogger(rank: number, component: string): RankLogger {
  const min = threshold();
  if (min === undefined) return rootLogger().child({ rank, component });
  let child: Logger | undefined;
  const line = (level: Level): LogFn => ((...args: Parameters<LogFn>) => {
    if (LEVELS[level] < min) return;
    child ??= rootLogger().child({ rank, component });
    child[level](...args);
  }) as LogFn;
  return {
    trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), fatal: line('fatal'),
    isLevelEnabled: (level) => LEVELS[level] >= min,
  };
}
