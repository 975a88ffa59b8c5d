import assert from 'node:assert/strict';
import { Mesh } from '../../src/mesh/mesh.js';
import { startMeshes, closeAll, loopbackWorld } from '../support/meshes.js';
import { randomBytes } from 'node:crypto';

function pattern(n: number, seed: number): Uint8Array {
  const a = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; a[i] = x >>> 24; }
  return a;
}

describe('mesh: in-process ranks over TCP loopback', function () {
  let meshes: Mesh[] = [];
  afterEach(async () => { await closeAll(meshes); meshes = []; });

  for (const p of [1, 2, 3, 5, 8]) {
    it(`every ordered pair exchanges 0 B, 1 B and 1 MiB, channels made on first use (p=${p})`, async () => {
      ({ meshes } = await startMeshes(p));
      for (const m of meshes) assert.equal(m.size, p);
      const sizes = [0, 1, 1 << 20];
      await Promise.all(meshes.flatMap((m) => meshes.map(async (peer) => {
        for (const n of sizes) {
          await m.send(peer.rank, `t${n}`, pattern(n, m.rank * 100 + peer.rank));
        }
      })));
      await Promise.all(meshes.flatMap((m) => meshes.map(async (peer) => {
        for (const n of sizes) {
          const got = await m.recv(peer.rank, `t${n}`, { timeoutMs: 30000 });
          assert.ok(got instanceof Uint8Array);
          assert.deepEqual(got, pattern(n, peer.rank * 100 + m.rank), `rank ${m.rank} from ${peer.rank}, ${n} bytes`);
        }
      })));
    });
  }

  // Inside encrypted libp2p (COMMUNE_DATA_PLANE=libp2p) both ends of every pair run in this one process
  // at a few tens of MiB/s: 16 MiB per pair still spans many flow-control windows, at a quarter of the time.
  const big = process.env.COMMUNE_DATA_PLANE === 'libp2p' ? 16 : 64;
  for (const p of [1, 2, 3, 5, 8]) {
    it(`every ordered pair exchanges ${big} MiB (p=${p})`, async () => {
      ({ meshes } = await startMeshes(p));
      const n = big << 20;
      // One pattern per sender, pairs one after another: memory stays at a few buffers.
      const data = meshes.map((m) => pattern(n, m.rank + 1));
      for (const m of meshes) {
        for (const peer of meshes) {
          const [, got] = await Promise.all([m.send(peer.rank, 'big', data[m.rank]), peer.recv(m.rank, 'big', { timeoutMs: 120000 })]);
          assert.ok(got instanceof Uint8Array && got.byteLength === n, `${m.rank}→${peer.rank} length`);
          assert.ok(Buffer.from(got.buffer, got.byteOffset, n).equals(data[m.rank]), `${m.rank}→${peer.rank} bytes differ`);
        }
      }
    });
  }

  it('keeps order per (peer, tag) and keeps tags apart', async () => {
    ({ meshes } = await startMeshes(2));
    const [a, b] = meshes;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) sends.push(a.send(1, i % 2 ? 'odd' : 'even', { i }));
    await Promise.all(sends);
    const odd: number[] = [];
    const even: number[] = [];
    for (let i = 0; i < 100; i++) odd.push(((await b.recv(0, 'odd')) as { i: number }).i);
    for (let i = 0; i < 100; i++) even.push(((await b.recv(0, 'even')) as { i: number }).i);
    assert.deepEqual(odd, Array.from({ length: 100 }, (_, k) => 2 * k + 1));
    assert.deepEqual(even, Array.from({ length: 100 }, (_, k) => 2 * k));
  });

  it('round-trips typed arrays of every supported type and nested MessagePack values', async () => {
    ({ meshes } = await startMeshes(2));
    const [a, b] = meshes;
    const values: unknown[] = [
      new Float64Array([1.5, -0, NaN, Infinity]), new Float32Array([0.1, 2]), new Int32Array([-7, 2 ** 31 - 1]),
      new Uint8Array([0, 255]), new BigInt64Array([-(2n ** 63n), 5n]),
      { name: 'x', scores: new Float64Array([0.25, 0.5]), list: [1, 'two', null, true], nested: { ids: new Int32Array([3]) } },
      null, 42, 'text',
    ];
    for (const v of values) await a.send(1, 'v', v);
    for (const v of values) assert.deepEqual(await b.recv(0, 'v'), v);
  });

  it('a message to oneself arrives as a private copy', async () => {
    ({ meshes } = await startMeshes(2));
    const buf = new Float64Array([1, 2, 3]);
    await meshes[0].send(0, 'self', buf);
    buf[0] = 99;
    assert.deepEqual(await meshes[0].recv(0, 'self'), new Float64Array([1, 2, 3]));
  });

  it('a receive nobody answers fails at its deadline naming the rank', async () => {
    ({ meshes } = await startMeshes(3));
    await assert.rejects(meshes[0].recv(2, 'never', { timeoutMs: 200 }), (e: Error) => e.name === 'PeerTimeoutError' && /rank 2/.test(e.message));
  });

  it('a sender may reuse its typed array as soon as send() resolves (small and large payloads)', async () => {
    ({ meshes } = await startMeshes(2));
    for (const n of [4, 1 << 18]) {
      const buf = new Float64Array(n).fill(1);
      await meshes[0].send(1, `reuse${n}`, buf);
      buf.fill(2);
      const got = (await meshes[1].recv(0, `reuse${n}`)) as Float64Array;
      assert.ok(got.every((x) => x === 1), `${n} elements: the receiver saw the overwritten buffer`);
    }
  });

  it('ranks on different data planes (direct and libp2p) still exchange messages both ways, in order', async () => {
    const secret = randomBytes(32).toString('hex');
    const jobId = `mixed-${secret.slice(0, 8)}`;
    meshes = await Promise.all((['direct', 'libp2p'] as const).map((dataPlane, r) => Mesh.start({ world: loopbackWorld(r, 2, jobId), secret, dataPlane })));
    assert.ok(meshes[0].directPort() !== undefined && meshes[1].directPort() === undefined);
    for (const [from, to] of [[0, 1], [1, 0]]) {
      const sends = Array.from({ length: 20 }, (_, i) => meshes[from].send(to, 'seq', i));
      await Promise.all(sends);
      for (let i = 0; i < 20; i++) assert.equal(await meshes[to].recv(from, 'seq', { timeoutMs: 10000 }), i);
    }
  });
});
