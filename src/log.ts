import { createRequire } from 'node:module';
import type { Logger, pino as Pino } from 'pino';

// Logs go to stderr (stdout carries results only), synchronously so nothing is lost when a rank exits.
// pino is loaded with the first logger: processes that never log (the gridsearch driver, `commune
// launch`) skip its ~20 ms of module loading.
let root: Logger | undefined;

function rootLogger(): Logger {
  if (!root) {
    const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof Pino };
    root = pino({ level: process.env.COMMUNE_LOG_LEVEL ?? 'warn', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  }
  return root;
}

/** A logger whose every line carries the rank. */
export function rankLogger(rank: number, component: string): Logger {
  return rootLogger().child({ rank, component });
}
