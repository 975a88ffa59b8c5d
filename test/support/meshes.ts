import { randomBytes } from 'node:crypto';
import { Mesh, type MeshOptions } from '../../src/mesh/mesh.js';
import { loopbackWorld } from '../../src/mesh/loopback-world.js';

export { loopbackWorld };

/** Starts `size` real ranks in this process over TCP loopback, as one job (a fresh port plan). */
export async function startMeshes(size: number, opts: Partial<MeshOptions> = {}): Promise<{ meshes: Mesh[]; secret: string; jobId: string }> {
  const secret = opts.secret ?? randomBytes(32).toString('hex');
  const jobId = `test-${randomBytes(6).toString('hex')}`;
  const meshes = await Promise.all(Array.from({ length: size }, (_, r) =>
    Mesh.start({ ...opts, world: loopbackWorld(r, size, jobId), secret })));
  return { meshes, secret, jobId };
}

export async function closeAll(meshes: Mesh[]): Promise<void> {
  await Promise.all(meshes.map((m) => m.close()));
}
