import { UsageError } from '../errors.js';
import { ALGORITHMS, COLLECTIVES, overrideVariable, type Algorithm, type Collective } from './select.js';

export type Overrides = Partial<Record<Collective, Algorithm>>;

/** Reads COMMUNE_<COLLECTIVE>_ALGORITHM from `env`; an unknown name is a UsageError listing the valid ones. */
export function readOverrides(env: Record<string, string | undefined>): Overrides {
  const out: Overrides = {};
  for (const c of COLLECTIVES) {
    const name = overrideVariable(c);
    const v = env[name]?.trim();
    if (!v || v === 'auto') continue;
    const valid = ALGORITHMS[c] as readonly string[];
    if (!valid.includes(v)) {
      throw new UsageError(`${name}=${v} is not a ${c} algorithm; valid: ${valid.join(', ')} (or auto)`);
    }
    out[c] = v as Algorithm;
  }
  return out;
}
