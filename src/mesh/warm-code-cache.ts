// Build step (package.json "bundle"): two ranks with the libp2p data plane join in this process and run
// a few collectives (noise, private network, identify, yamux streams, gossipsub), so V8 compiles the
// bundle's functions a rank that uses libp2p runs; then the bundle's code cache is saved beside it
// (libp2p-stack.ts).
import { randomBytes } from 'node:crypto';
import { saveCodeCache } from '../cached-script.js';
import { Communicator } from '../collectives/communicator.js';
import { BUNDLE, CODE_CACHE, stack } from './libp2p-stack.js';
import { loopbackWorld } from './loopback-world.js';
import { Mesh } from './mesh.js';

if (!stack.script) {
  process.stderr.write('warm-code-cache: no dist/src/mesh/libp2p-stack.bundle.cjs to cache; run `npm run bundle`\n');
  process.exit(1);
}
const secret = randomBytes(32).toString('hex');
const jobId = `code-cache-${secret.slice(0, 8)}`;
const meshes = await Promise.all([0, 1].map((r) => Mesh.start({ world: loopbackWorld(r, 2, jobId), secret, dataPlane: 'libp2p' })));
const comms = meshes.map((m) => new Communicator(m));
await Promise.all(comms.map(async (c) => {
  await c.barrier();
  await c.allreduce(Float64Array.of(c.rank), 'sum');
  await c.allgather({ rank: c.rank });
}));
await Promise.all(comms.map((c) => c.close()));
const bytes = saveCodeCache(stack.script, BUNDLE);
process.stderr.write(`warm-code-cache: ${CODE_CACHE} (${(bytes / 1048576).toFixed(1)} MiB)\n`);
