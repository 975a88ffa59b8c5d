import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import * as lp from 'it-length-prefixed';
import { pipe } from 'it-pipe';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Mesh } from '../../src/mesh/mesh.js';
import { MAX_UNAUTHENTICATED_PER_ADDRESS } from '../../src/mesh/direct-plane.js';
import { MSG_PROTOCOL } from '../../src/mesh/libp2p-plane.js';
import { createNode, type Node } from '../../src/mesh/node.js';
import { handshakeKey, networkKey, rankKey } from '../../src/mesh/identity.js';
import { HELLO_BYTES, accept, challenge, checkHello } from '../../src/mesh/handshake.js';
import { loopbackWorld } from '../../src/mesh/loopback-world.js';
import type { ProtocolError } from '../../src/errors.js';
import { startMeshes, closeAll } from '../support/meshes.js';

async function stillWorks(meshes: Mesh[], a = 0, b = 1): Promise<void> {
  await meshes[b].send(a, 'after', new Float64Array([4, 2]));
  assert.deepEqual(await meshes[a].recv(b, 'after', { timeoutMs: 10000 }), new Float64Array([4, 2]));
}

// The libp2p side (COMMUNE_DATA_PLANE=libp2p, or pub/sub): private network, gater, frames.
describe('mesh: hostile input over libp2p', function () {
  let meshes: Mesh[] = [];
  let rogue: Node | undefined;
  afterEach(async () => {
    await rogue?.stop();
    rogue = undefined;
    await closeAll(meshes);
    meshes = [];
  });

  const target = (m: Mesh): string => m.addresses().find((a) => a.includes('/p2p/'))!;
  const libp2p = { dataPlane: 'libp2p' } as const;

  it('a node without the job secret cannot connect (wrong private-network key); the rank keeps working', async () => {
    let secret: string;
    ({ meshes, secret } = await startMeshes(2, libp2p));
    rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), psk: networkKey(randomBytes(32).toString('hex')), listen: ['/ip4/127.0.0.1/tcp/0'], size: 1 });
    await assert.rejects(rogue.dial(multiaddr(target(meshes[0])), { signal: AbortSignal.timeout(5000) }));
    assert.equal(rogue.getConnections().length, 0);
    assert.ok(secret);
    await stillWorks(meshes);
  });

  it('a node with the network key but an identity outside the job is refused by the gater', async () => {
    let secret: string;
    ({ meshes, secret } = await startMeshes(2, libp2p));
    rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), psk: networkKey(secret), listen: ['/ip4/127.0.0.1/tcp/0'], size: 1 });
    const attempt = rogue.dial(multiaddr(target(meshes[0])), { signal: AbortSignal.timeout(5000) })
      .then(async (c) => {
        // Should the upgrade slip through, no protocol may be usable on it.
        await c.newStream(MSG_PROTOCOL, { signal: AbortSignal.timeout(2000) });
        return 'connected';
      });
    await assert.rejects(attempt);
    await stillWorks(meshes);
  });

  it('a publisher outside the job cannot reach the job\'s pub/sub topics', async () => {
    let secret: string;
    ({ meshes, secret } = await startMeshes(2, libp2p));
    const heard: number[] = [];
    const off = meshes[0].subscribe('job/topic', (rank) => heard.push(rank));
    rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), psk: networkKey(secret), listen: ['/ip4/127.0.0.1/tcp/0'], size: 1 });
    rogue.services.pubsub.subscribe('job/topic');
    await rogue.dial(multiaddr(target(meshes[0])), { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    const res = await rogue.services.pubsub.publish('job/topic', new Uint8Array([1]));
    assert.equal(res.recipients.length, 0, 'the rogue reached a rank');
    assert.deepEqual(heard, []);
    off();
    await stillWorks(meshes);
  });

  const malformed: [string, (w: (b: Uint8Array) => Uint8Array[]) => Uint8Array[], RegExp][] = [
    ['a header whose tag overruns the frame', (f) => f(new Uint8Array([0, 0xff, 0xff, 1, 2])), /overruns/],
    ['an unknown frame kind', (f) => f(new Uint8Array([200, 0, 0, 1])), /unknown frame kind/],
    ['a typed array of a ragged length', (f) => f(new Uint8Array([2, 0, 1, 120, 1, 2, 3])), /not a multiple/],
    ['undecodable MessagePack', (f) => f(new Uint8Array([0, 0, 1, 120, 0xc1])), /malformed frame/],
    ['a frame above the size limit', () => [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])], /InvalidDataLength|frame limit/],
  ];
  for (const [what, frames, pattern] of malformed) {
    it(`${what} gives a protocol error naming the peer, never a crash`, async () => {
      let secret: string;
      ({ meshes, secret } = await startMeshes(2, { maxFrameBytes: 1 << 20, ...libp2p }));
      const seen = new Promise<ProtocolError>((resolve) => meshes[0].once('protocol-error', resolve));
      // A process holding rank 1's key (a buggy build of the job) speaks nonsense on the message protocol.
      rogue = await createNode({ privateKey: await rankKey(secret, 1), psk: networkKey(secret), listen: ['/ip4/127.0.0.1/tcp/0'], size: 2 });
      const stream = await rogue.dialProtocol(multiaddr(target(meshes[0])), MSG_PROTOCOL, { signal: AbortSignal.timeout(5000) });
      const payload = frames((b) => [...lp.encode.single(b)]);
      await pipe(payload, stream).catch(() => undefined);
      const err = await seen;
      assert.equal(err.name, 'ProtocolError');
      assert.match(err.message, /rank 1/);
      assert.match(err.message, pattern);
      await stillWorks(meshes);
    });
  }
});

describe('mesh: hostile input on the direct data plane', function () {
  let meshes: Mesh[] = [];
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    server?.close();
    server = undefined;
    await closeAll(meshes);
    meshes = [];
  });

  it('a raw connection without the handshake, or with a forged hello, is refused naming its address; the rank keeps working', async () => {
    ({ meshes } = await startMeshes(2, { dataPlane: 'direct' }));
    const port = meshes[1].directPort();
    assert.ok(port, 'rank 1 listens on a direct-plane port');
    const forged = Buffer.concat([Buffer.from('CDP2'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), randomBytes(HELLO_BYTES - 12)]);
    for (const [bytes, pattern] of [
      [Buffer.from('hello there, let me in please, I am rank zero honestly, here is some padding for the hello'), /not a commune direct-plane handshake/],
      [forged, /claiming rank 0 .*wrong key/],
    ] as const) {
      const seen = new Promise<ProtocolError>((resolve) => meshes[1].once('protocol-error', resolve));
      const s = connect({ host: '127.0.0.1', port });
      sockets.push(s);
      s.on('error', () => {});
      s.resume(); // the rank's challenge
      s.write(bytes);
      const [err] = await Promise.all([seen, new Promise((r) => s.once('close', r))]);
      assert.equal(err.name, 'ProtocolError');
      assert.match(err.message, /127\.0\.0\.1:\d+/);
      assert.match(err.message, pattern);
    }
    await stillWorks(meshes);
    await meshes[0].send(1, 'back', 'ok');
    assert.equal(await meshes[1].recv(0, 'back', { timeoutMs: 10000 }), 'ok');
  });

  it(`connections that never authenticate are bounded per address (${MAX_UNAUTHENTICATED_PER_ADDRESS}): past it the oldest are closed at once, and the ranks keep working`, async function () {
    this.timeout(60_000);
    ({ meshes } = await startMeshes(2, { dataPlane: 'direct' }));
    const port = meshes[1].directPort()!;
    const held = MAX_UNAUTHENTICATED_PER_ADDRESS + 150;
    const deadlineRefusals: string[] = [];
    meshes[1].on('protocol-error', (e: ProtocolError) => { if (/no handshake within/.test(e.message)) deadlineRefusals.push(e.message); });
    let closed = 0;
    let closedEnough!: () => void;
    const enough = new Promise<void>((r) => { closedEnough = r; });
    for (let i = 0; i < held; i++) {
      const s = connect({ host: '127.0.0.1', port });
      sockets.push(s);
      s.on('error', () => {});
      s.resume(); // read the challenge, answer nothing: a connection trickling (or holding) forever
      s.once('close', () => { if (++closed >= held - MAX_UNAUTHENTICATED_PER_ADDRESS) closedEnough(); });
    }
    // Closed by the bound, not by the handshake deadline (that one says so in a protocol error).
    await enough;
    assert.deepEqual(deadlineRefusals, []);
    await stillWorks(meshes);
  });

  const u32 = (n: number): Uint8Array => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
  const framed = (body: number[]): Uint8Array => Buffer.concat([u32(body.length), Uint8Array.from(body)]);
  const malformed: [string, Uint8Array, RegExp][] = [
    ['a header whose tag overruns the frame', framed([0, 0xff, 0xff, 1, 2]), /overruns/],
    ['a frame shorter than its header', framed([0]), /shorter than its 3-byte header/],
    ['an unknown frame kind', framed([200, 0, 0, 1]), /unknown frame kind/],
    ['a typed array of a ragged length', framed([2, 0, 1, 120, 1, 2, 3]), /not a multiple/],
    ['undecodable MessagePack', framed([0, 0, 1, 120, 0xc1]), /malformed frame/],
    ['a frame above the size limit', u32(0xfffffff0), /frame limit/],
  ];
  for (const [what, bytes, pattern] of malformed) {
    it(`${what} on an admitted direct channel gives a protocol error naming the rank; the rank keeps working`, async () => {
      // Ranks 0 and 2 of a world of 3 are real; a process holding the job's key (a buggy build of the
      // job) plays rank 1 at its planned port, admits rank 0's hello, then speaks nonsense.
      const secret = randomBytes(32).toString('hex');
      const jobId = `hostile-${randomBytes(4).toString('hex')}`;
      const key = handshakeKey(secret);
      let helloFrom: number | undefined;
      server = createServer((sock) => {
        sockets.push(sock);
        sock.on('error', () => {});
        const sent = challenge(1, 'direct');
        sock.write(sent);
        let got = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          if (helloFrom !== undefined || got.length < HELLO_BYTES) return;
          const h = checkHello(key, sent, got, 1);
          if ('error' in h) { sock.destroy(); return; }
          helloFrom = h.rank;
          sock.write(Buffer.concat([accept(key, sent, h, process.pid, 0), bytes]));
        });
      });
      await new Promise<void>((r) => server!.listen(loopbackWorld(1, 3, jobId).listenPorts[0], '127.0.0.1', r));
      // A short deadline: closing waits that long on the impostor, which never takes part.
      meshes = await Promise.all([0, 2].map((r) => Mesh.start({ world: loopbackWorld(r, 3, jobId), secret, maxFrameBytes: 1 << 20, dataPlane: 'direct', timeoutMs: 2000 })));
      const seen = new Promise<ProtocolError>((resolve) => meshes[0].once('protocol-error', resolve));
      void meshes[0].recv(1, 'anything', { timeoutMs: 10000 }).catch(() => undefined); // rank 0 dials rank 1 to receive
      const err = await seen;
      assert.equal(helloFrom, 0, 'rank 0 proved itself with the job\'s key');
      assert.equal(err.name, 'ProtocolError');
      assert.match(err.message, /rank 1/);
      assert.match(err.message, pattern);
      await meshes[1].send(0, 'after', new Float64Array([4, 2]));
      assert.deepEqual(await meshes[0].recv(2, 'after', { timeoutMs: 10000 }), new Float64Array([4, 2]));
    });
  }
});
