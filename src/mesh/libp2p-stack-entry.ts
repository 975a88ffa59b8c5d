// Every run-time value a rank takes from the libp2p family, in one module: the entry the build
// bundles (package.json "bundle": esbuild, CommonJS) into dist/src/mesh/libp2p-stack.bundle.cjs,
// which libp2p-stack.ts loads. Types still come from the packages.
// uint8arraylist is inside the bundle and re-exported, so our frames and libp2p's streams share one class.
import '../polyfill.js';

export { createLibp2p } from 'libp2p';
export { tcp } from '@libp2p/tcp';
export { noise } from '@chainsafe/libp2p-noise';
export { yamux } from '@chainsafe/libp2p-yamux';
export { identify } from '@libp2p/identify';
export { gossipsub } from '@chainsafe/libp2p-gossipsub';
export { privateKeyFromRaw } from '@libp2p/crypto/keys';
export { peerIdFromPrivateKey } from '@libp2p/peer-id';
export { multiaddr } from '@multiformats/multiaddr';
export { pipe } from 'it-pipe';
export * as lp from 'it-length-prefixed';
export { Uint8ArrayList } from 'uint8arraylist';
