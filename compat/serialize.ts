// Task arguments: futures inside them (at any depth of plain arrays and objects) travel as key
// markers and become their results on the worker, as in Dask; everything else is MessagePack.
import { Decoder, Encoder } from '@msgpack/msgpack';
import { extensionCodec } from '../src/mesh/codec.js';

const MARK = '__commune_key__';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Replaces every value for which `keyOf` returns a key by a marker; collects those keys. */
export function markFutures(v: unknown, keyOf: (x: unknown) => string | undefined, deps: Set<string>): unknown {
  const k = keyOf(v);
  if (k !== undefined) { deps.add(k); return { [MARK]: k }; }
  if (Array.isArray(v)) return v.map((x) => markFutures(x, keyOf, deps));
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [a, b] of Object.entries(v)) out[a] = markFutures(b, keyOf, deps);
    return out;
  }
  return v;
}

/** Replaces markers by values (worker side). */
export function fillFutures(v: unknown, valueOf: (key: string) => unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => fillFutures(x, valueOf));
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === MARK && typeof v[MARK] === 'string') return valueOf(v[MARK] as string);
    const out: Record<string, unknown> = {};
    for (const [a, b] of Object.entries(v)) out[a] = fillFutures(b, valueOf);
    return out;
  }
  return v;
}

// One encoder and decoder for the process (thread): msgpack's encode() would allocate a fresh encoder
// and buffer per call, which dominates for the small payloads of short tasks. encode() copies out.
const encoder = new Encoder({ extensionCodec, ignoreUndefined: false });
const decoder = new Decoder({ extensionCodec });

export function encode(v: unknown): Uint8Array {
  return encoder.encode(v);
}

export function decode(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
