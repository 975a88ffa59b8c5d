// The libp2p stack a rank uses, loaded from one bundle with a V8 code cache.
//
// Why a bundle: Node's ESM loader resolves, reads and links the stack's ~700 files one by one,
// ~0.4 s of CPU per rank before it can join, against ~0.05 s for one file — paid by every rank of
// every job, and on a cluster's shared file system by all of them at once.
// Why a code cache: even from one file, V8 parses and compiles each function the first time it runs,
// and a join runs a great many. The build runs a join once and saves V8's compiled bytecode
// (warm-code-cache.ts); a rank that finds it skips that work. Other Node versions than the build's
// use Node's own compile cache where they have one (src/cached-script.ts).
// Without the bundle (a plain `tsc` build) the entry's modules load one by one, as before.
import '../polyfill.js';
import { fileURLToPath } from 'node:url';
import { codeCacheOf, runCachedScript, type CachedScript } from '../cached-script.js';
import type * as Entry from './libp2p-stack-entry.js';

export const BUNDLE = fileURLToPath(new URL('./libp2p-stack.bundle.cjs', import.meta.url));
export const CODE_CACHE = codeCacheOf(BUNDLE);

export const stack: CachedScript<typeof Entry> = runCachedScript<typeof Entry>(BUNDLE) ?? { exports: await import('./libp2p-stack-entry.js'), cache: 'none' };

export const {
  createLibp2p, tcp, noise, yamux, identify, gossipsub, privateKeyFromRaw, peerIdFromPrivateKey, multiaddr, pipe, lp, Uint8ArrayList,
} = stack.exports;
export type Uint8ArrayList = Entry.Uint8ArrayList;
