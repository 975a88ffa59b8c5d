// Durations read from the environment (COMMUNE_TIMEOUT_MS and friends). A value that is set but is not
// a positive whole number of milliseconds is bad input — one clear error naming the variable, exit 2 —
// never silently replaced by the default (`Number('abc') || d` did that, and accepted '-5').
import { UsageError } from './errors.js';

export function msSetting(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < 1) {
    throw new UsageError(`${name}='${env[name]}' is not a positive whole number of milliseconds (default ${fallback}); fix or unset it`);
  }
  return v;
}
