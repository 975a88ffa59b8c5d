// The libp2p stack a rank uses, loaded from one bundle with a V8 code cache.
//
// Why a bundle: Node's ESM loader resolves, reads and links the stack's ~700 files one by one,
// ~0.4 s of CPU per rank before it can join, against ~0.05 s for one file — paid by every rank of
// every job, and on a cluster's shared file system by all of them at once.
// Why a code cache: even from one file, V8 parses and compiles each function the first time it runs,
// and a join runs a great many. The build runs a join once and saves V8's compiled bytecode
// (warm-code-cache.ts); a rank that finds it skips that work (~45 ms of CPU per rank measured).
// Node 20 caches code only for scripts (vm.Script cachedData), hence a CommonJS bundle. A cache V8
// rejects (another Node version or V8 flags) or a missing one only costs the compile.
// Without the bundle (a plain `tsc` build) the entry's modules load one by one, as before.
import '../polyfill.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type * as Entry from './libp2p-stack-entry.js';

export const BUNDLE = fileURLToPath(new URL('./libp2p-stack.bundle.cjs', import.meta.url));
export const CODE_CACHE = BUNDLE.replace(/\.cjs$/, '.v8cache');

export interface LoadedStack {
  exports: typeof Entry;
  /** The bundle's script (to save its code cache), when the bundle was found. */
  script?: Script;
  /** V8 took the saved code cache. */
  cacheUsed: boolean;
}

function loadBundle(): LoadedStack | undefined {
  let source: string;
  try {
    source = readFileSync(BUNDLE, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(CODE_CACHE);
  } catch {
    // not built yet: compile without
  }
  // The CommonJS wrapper on the bundle's first line, so line numbers in stack traces stay the bundle's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
  const module = { exports: {} as typeof Entry };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { exports: module.exports, script, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

export const stack: LoadedStack = loadBundle() ?? { exports: await import('./libp2p-stack-entry.js'), cacheUsed: false };

export const {
  createLibp2p, tcp, noise, yamux, identify, gossipsub, generateKeyPairFromSeed, peerIdFromPrivateKey, multiaddr, pipe, lp, Uint8ArrayList,
} = stack.exports;
export type Uint8ArrayList = Entry.Uint8ArrayList;
