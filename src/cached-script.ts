// A CommonJS bundle run as one vm.Script with V8's code cache beside it (`<bundle>.v8cache`): Node 20
// caches compiled code only for scripts (vm.Script cachedData), not for ES modules. With the cache,
// V8 skips parsing and compiling every function the cache holds — the ones a training run executed
// before saving it. A cache V8 rejects (another Node version, other V8 flags), an older one than the
// bundle or a missing one only costs the compile. Used for the libp2p stack (mesh/libp2p-stack.ts) and the CLI (cli/main.ts).
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export interface CachedScript<T> {
  exports: T;
  script: Script;
  /** V8 took the saved code cache. */
  cacheUsed: boolean;
}

/** The code cache file of a bundle. */
export const codeCacheOf = (bundle: string): string => bundle.replace(/\.c?js$/, '.v8cache');

/** Compiles the CommonJS bundle `file` with its cache, when there is one, without running it; undefined when the file cannot be read. */
export function compileCachedScript(file: string): { script: Script; cacheUsed: boolean } | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  try {
    // Only a cache saved after the bundle was written: V8 checks a cache against the source's length,
    // not its text, and a stale cache for a same-length bundle runs its old bytecode against the new
    // text (seen here as a SyntaxError from a function compiled lazily at a shifted offset).
    const cache = codeCacheOf(file);
    if (statSync(cache).mtimeMs >= statSync(file).mtimeMs) cachedData = readFileSync(cache);
  } catch {
    // not built yet: compile without
  }
  // The CommonJS wrapper on the bundle's first line, so line numbers in stack traces stay the bundle's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  return { script, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/** Runs the CommonJS bundle `file` (compileCachedScript); undefined when the file cannot be read. */
export function runCachedScript<T>(file: string): CachedScript<T> | undefined {
  const compiled = compileCachedScript(file);
  if (!compiled) return undefined;
  const module = { exports: {} as T };
  (compiled.script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, ...compiled };
}

/** Saves what V8 has compiled of `script` so far as the code cache of `file` (atomically); returns its size. */
export function saveCodeCache(script: Script, file: string): number {
  const data = script.createCachedData();
  const cache = codeCacheOf(file);
  writeFileSync(`${cache}.${process.pid}.tmp`, data);
  renameSync(`${cache}.${process.pid}.tmp`, cache);
  return data.byteLength;
}
