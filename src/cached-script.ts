// A CommonJS bundle run with a V8 code cache, so a rank skips parsing and compiling the code it runs.
//
// Two caches, the better one first:
// - **Trained** (`<bundle>.v8-<V8 version>.v8cache`): the build runs the bundle once (a join, a grid
//   search) and saves what V8 compiled by then, lazily compiled functions included; the bundle then
//   runs as one vm.Script with that cache. Only a process on the build's V8 can use it (V8 refuses a
//   cache from another version or other flags), hence the version in the name: a job whose ranks run
//   other Node versions than the build's never reads a cache it would refuse.
// - **Node's module compile cache** (`module.enableCompileCache()`, Node ≥ 22.1) for every other
//   version: Node keeps one cache per version in its own directory (os.tmpdir()/node-compile-cache,
//   or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off). It is the maintained
//   mechanism, but it holds only what V8 compiles eagerly at load (a third of the trained cache for
//   the CLI bundle), so where a trained cache fits it is faster (README, Node.js versions).
// On Node 20 without a trained cache for its V8, the bundle compiles as it runs.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** Set to 1 by the build's training runs: load every bundle as a vm.Script whose cache can be saved. */
export const TRAIN_VARIABLE = 'COMMUNE_TRAIN_CODE_CACHE';

/** Which cache a bundle loaded with: the build's (V8 took it), Node's module compile cache, or none. */
export type CodeCacheKind = 'trained' | 'node' | 'none';

export interface CachedScript<T> {
  exports: T;
  /** The vm.Script, when the bundle ran as one (to save its code cache). */
  script?: Script;
  cache: CodeCacheKind;
}

/** The trained code cache of a bundle for this process's V8. */
export const codeCacheOf = (bundle: string): string => bundle.replace(/\.c?js$/, `.v8-${process.versions.v8}.v8cache`);

/** Every trained code cache of a bundle, whatever V8 it was trained on. */
export function trainedCacheFiles(bundle: string): string[] {
  const stem = basename(bundle).replace(/\.c?js$/, '.v8-');
  return readdirSync(dirname(bundle)).filter((f) => f.startsWith(stem) && f.endsWith('.v8cache')).map((f) => join(dirname(bundle), f));
}

/** A trained cache this process may use: one for its V8, saved after its bundle was written. */
function trainedCache(file: string): Buffer | undefined {
  try {
    // V8 checks a cache against the source's length, not its text: a stale cache for a same-length
    // bundle would run its old bytecode against the new text (seen as a SyntaxError from a function
    // compiled lazily at a shifted offset). Hence only a cache written after the bundle.
    const cache = codeCacheOf(file);
    return statSync(cache).mtimeMs >= statSync(file).mtimeMs ? readFileSync(cache) : undefined;
  } catch {
    return undefined; // not trained for this V8
  }
}

/** Compiles the CommonJS bundle `file` with its trained cache, when there is one, without running it; undefined when the file cannot be read. */
export function compileCachedScript(file: string, cachedData = trainedCache(file)): { script: Script; cacheUsed: boolean } | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The CommonJS wrapper on the bundle's first line, so line numbers in stack traces stay the bundle's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  return { script, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

const enableNodeCompileCache = (module as { enableCompileCache?: () => unknown }).enableCompileCache;

/** Runs the CommonJS bundle `file` with the best code cache it has (see the top); undefined when the file cannot be read. */
export function runCachedScript<T>(file: string): CachedScript<T> | undefined {
  if (!existsSync(file)) return undefined;
  const cachedData = trainedCache(file);
  if (!cachedData && enableNodeCompileCache && process.env[TRAIN_VARIABLE] !== '1') {
    enableNodeCompileCache(); // idempotent; a cache directory Node cannot use only costs the compile
    return { exports: createRequire(file)(file) as T, cache: 'node' };
  }
  const compiled = compileCachedScript(file, cachedData);
  if (!compiled) return undefined;
  const wrapper = { exports: {} as T };
  (compiled.script.runInThisContext() as (...a: unknown[]) => void)(wrapper.exports, createRequire(file), wrapper, file, dirname(file));
  return { exports: wrapper.exports, script: compiled.script, cache: compiled.cacheUsed ? 'trained' : 'none' };
}

/** Saves what V8 has compiled of `script` so far as the trained code cache of `file` (atomically); returns its size. */
export function saveCodeCache(script: Script, file: string): number {
  const data = script.createCachedData();
  const cache = codeCacheOf(file);
  writeFileSync(`${cache}.${process.pid}.tmp`, data);
  renameSync(`${cache}.${process.pid}.tmp`, cache);
  return data.byteLength;
}
