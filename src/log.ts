import { pino, type Logger } from 'pino';

// Logs go to stderr (stdout carries results only), synchronously so nothing is lost when a rank exits.
const root: Logger = pino(
  { level: process.env.COMMUNE_LOG_LEVEL ?? 'warn', base: { pid: process.pid } },
  pino.destination({ fd: 2, sync: true }),
);

/** A logger whose every line carries the rank. */
export function rankLogger(rank: number, component: string): Logger {
  return root.child({ rank, component });
}
