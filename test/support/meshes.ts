import { randomBytes } from 'node:crypto';
import { Mesh, type MeshOptions } from '../../src/mesh/mesh.js';
import { freePort } from '../../src/mesh/free-port.js';
import { loopbackWorld } from '../../src/mesh/loopback-world.js';

export { loopbackWorld };

/** Starts `size` real libp2p ranks in this process over TCP loopback. */
export async function startMeshes(size: number, opts: Partial<MeshOptions> = {}): Promise<{ meshes: Mesh[]; secret: string; port: number }> {
  const secret = opts.secret ?? randomBytes(32).toString('hex');
  const port = await freePort();
  const meshes = await Promise.all(Array.from({ length: size }, (_, r) =>
    Mesh.start({ ...opts, world: loopbackWorld(r, size, port), secret })));
  return { meshes, secret, port };
}

export async function closeAll(meshes: Mesh[]): Promise<void> {
  await Promise.all(meshes.map((m) => m.close()));
}
