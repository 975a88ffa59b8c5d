// Every run-time value a rank takes from the libp2p family, in one module. The build bundles this
// module with its dependencies into one file (package.json "build": esbuild after tsc), because
// Node's ESM loader resolves, reads and links the stack's ~700 files one by one: ~0.4 s of CPU per
// rank before it can join, against ~0.07 s for the bundle — paid by every rank of every job, and on
// a cluster's shared file system by all of them at once. Types still come from the packages.
// uint8arraylist stays outside the bundle so our frames and libp2p's streams share one class.
import '../polyfill.js';

export { createLibp2p } from 'libp2p';
export { tcp } from '@libp2p/tcp';
export { noise } from '@chainsafe/libp2p-noise';
export { yamux } from '@chainsafe/libp2p-yamux';
export { identify } from '@libp2p/identify';
export { gossipsub } from '@chainsafe/libp2p-gossipsub';
export { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
export { peerIdFromPrivateKey } from '@libp2p/peer-id';
export { multiaddr } from '@multiformats/multiaddr';
export { pipe } from 'it-pipe';
export * as lp from 'it-length-prefixed';
