import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import * as lp from 'it-length-prefixed';
import { pipe } from 'it-pipe';
import { Mesh, MSG_PROTOCOL } from '../../src/mesh/mesh.js';
import { createNode, type Node } from '../../src/mesh/node.js';
import { networkKey, rankKey } from '../../src/mesh/identity.js';
import { ROSTER_TOPIC } from '../../src/mesh/roster.js';
import { encodeValue } from '../../src/mesh/codec.js';
import type { ProtocolError } from '../../src/errors.js';
import { startMeshes, closeAll } from '../support/meshes.js';

async function stillWorks(meshes: Mesh[]): Promise<void> {
  await meshes[1].send(0, 'after', new Float64Array([4, 2]));
  assert.deepEqual(await meshes[0].recv(1, 'after', { timeoutMs: 10000 }), new Float64Array([4, 2]));
}

describe('mesh: hostile input', function () {
  let meshes: Mesh[] = [];
  let rogue: Node | undefined;
  afterEach(async () => {
    await rogue?.stop();
    rogue = undefined;
    await closeAll(meshes);
    meshes = [];
  });

  const target = (m: Mesh): string => m.addresses().find((a) => a.includes('/tcp/'))!;

  it('a node without the job secret cannot connect (wrong private-network key); the rank keeps working', async () => {
    let secret: string;
    ({ meshes, secret } = await startMeshes(2));
    rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), psk: networkKey(randomBytes(32).toString('hex')), listen: ['/ip4/127.0.0.1/tcp/0'], size: 1 });
    await assert.rejects(rogue.dial(multiaddr(target(meshes[0])), { signal: AbortSignal.timeout(5000) }));
    assert.equal(rogue.getConnections().length, 0);
    assert.deepEqual(meshes[0].connectedRanks().filter((r) => r > 1), []);
    assert.ok(secret);
    await stillWorks(meshes);
  });

  it('a node with the network key but an identity outside the job is refused by the gater', async () => {
    let secret: string;
    ({ meshes, secret } = await startMeshes(2));
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

  it('a publisher outside the job cannot inject roster entries', async () => {
    let secret: string;
    ({ meshes, secret } = await startMeshes(2));
    rogue = await createNode({ privateKey: await generateKeyPair('Ed25519'), psk: networkKey(secret), listen: ['/ip4/127.0.0.1/tcp/0'], size: 1 });
    rogue.services.pubsub.subscribe(ROSTER_TOPIC);
    await rogue.dial(multiaddr(target(meshes[0])), { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    const res = await rogue.services.pubsub.publish(ROSTER_TOPIC, encodeValue({ r: 1, a: ['/ip4/6.6.6.6/tcp/1'], k: 2 }));
    assert.equal(res.recipients.length, 0, 'the rogue reached a rank');
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
      ({ meshes, secret } = await startMeshes(2, { maxFrameBytes: 1 << 20 }));
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
