import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { DirectPlane, DIRECT_OFFER, dataPlaneMode, type PlaneHooks } from '../../src/mesh/direct-plane.js';
import { ACCEPTED, hello } from '../../src/mesh/direct-auth.js';
import { FrameReader } from '../../src/mesh/frame-reader.js';
import { ProtocolError, UsageError } from '../../src/errors.js';
import { rankLogger } from '../../src/log.js';

// The direct plane's admission and framing over real loopback sockets. The plane under test is rank 1
// (it listens for rank 0); the test plays rank 0's process, taking the OFFER the plane would send
// over libp2p from the control hook.

interface Offer { p: number; t: Uint8Array }

function startPlane(): Promise<{ plane: DirectPlane; offers: Offer[]; errors: ProtocolError[]; frames: [string, unknown][]; framesAt: (n: number) => Promise<void> }> {
  const offers: Offer[] = [];
  const errors: ProtocolError[] = [];
  const frames: [string, unknown][] = [];
  const waits: [number, () => void][] = [];
  const framesAt = (n: number): Promise<void> => new Promise((r) => (frames.length >= n ? r() : waits.push([n, r])));
  const hooks: PlaneHooks = {
    rank: 1, maxFrameBytes: 1 << 20, timeoutMs: 10_000, log: rankLogger(1, 'test'),
    control: (peer, tag, value) => { if (peer === 0 && tag === DIRECT_OFFER) offers.push(value as Offer); },
    hostOf: () => '127.0.0.1',
    deliver: (_peer, tag, value) => {
      frames.push([tag, value]);
      for (const [n, r] of waits) if (frames.length >= n) r();
      return undefined;
    },
    viaLibp2p: () => Promise.reject(new Error('not used')),
    closed: () => {},
    protocolError: (e) => errors.push(e),
  };
  return DirectPlane.start(hooks, '127.0.0.1', true).then((plane) => ({ plane, offers, errors, frames, framesAt }));
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: Socket): Promise<void> => new Promise((r) => (s.closed ? r() : s.once('close', () => r())));
const firstData = (s: Socket): Promise<Buffer> => new Promise((r) => s.once('data', r));

describe('mesh/direct-plane: admission and framing on real sockets', function () {
  let plane: DirectPlane | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    if (plane) { await plane.close(); plane.destroy(); plane = undefined; }
  });

  it('a receiver that cannot reach the offered address refuses the channel: the sender\'s queued frames go over libp2p instead', async () => {
    // Two planes wired by their control hooks (libp2p's job in a mesh). Rank 1 is told rank 0 lives at
    // 127.0.0.2, where nothing listens: its dial fails.
    const viaLibp2p: string[] = [];
    let a: DirectPlane | undefined;
    let b: DirectPlane | undefined;
    const base = (rank: number): Omit<PlaneHooks, 'control' | 'hostOf' | 'viaLibp2p'> => ({
      rank, maxFrameBytes: 1 << 20, timeoutMs: 10_000, log: rankLogger(rank, 'test'), deliver: () => undefined, closed: () => {}, protocolError: () => {},
    });
    a = await DirectPlane.start({
      ...base(0), hostOf: () => '127.0.0.1',
      control: (peer, tag, value) => { b!.onControl(0, tag, value); void peer; },
      viaLibp2p: (peer) => { viaLibp2p.push(`${peer}:`); return Promise.resolve(); },
    }, '127.0.0.1', true);
    b = await DirectPlane.start({
      ...base(1), hostOf: () => '127.0.0.2',
      control: (peer, tag, value) => { a!.onControl(1, tag, value); void peer; },
      viaLibp2p: () => Promise.reject(new Error('not used')),
    }, '127.0.0.1', true);
    try {
      await Promise.all([a.send(1, 'x', new Float64Array([1])), a.send(1, 'y', { z: 2 })]);
      assert.equal(viaLibp2p.length, 2, 'both frames went over libp2p');
      assert.ok(viaLibp2p.every((v) => v.startsWith('1:')));
    } finally {
      for (const pl of [a, b]) { await pl.close(); pl.destroy(); }
    }
  });

  it('COMMUNE_DATA_PLANE accepts direct (default) and libp2p, refuses anything else with a usage error', () => {
    assert.equal(dataPlaneMode(undefined), 'direct');
    assert.equal(dataPlaneMode('libp2p'), 'libp2p');
    assert.throws(() => dataPlaneMode('udp'), (e: Error) => e instanceof UsageError && /COMMUNE_DATA_PLANE='udp'/.test(e.message));
  });

  it('a connection that does not start with the handshake is refused, naming its address', async () => {
    let offers: Offer[]; let errors: ProtocolError[];
    ({ plane, offers, errors } = await startPlane());
    const s = await open(plane.port);
    sockets.push(s);
    s.write('GET / HTTP/1.0\r\n\r\n');
    await closed(s);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /127\.0\.0\.1:\d+.*not a commune direct-plane handshake/);
    assert.equal(offers.length, 0);
  });

  it('a handshake without an offer, or with a wrong token, is refused; the offered token admits once, then queued frames flow in order', async () => {
    let offers: Offer[]; let errors: ProtocolError[]; let frames: [string, unknown][]; let framesAt: (n: number) => Promise<void>;
    ({ plane, offers, errors, frames, framesAt } = await startPlane());
    // Nothing offered yet: even a well-formed hello is refused.
    const early = await open(plane.port);
    sockets.push(early);
    early.write(hello(0, randomBytes(32)));
    await closed(early);
    assert.match(errors.at(-1)!.message, /claiming rank 0.*no channel was offered/);

    // The plane's first send to rank 0 offers a channel (over libp2p in a mesh; captured here).
    const sent = [plane.send(0, 'a', new Float64Array([1, 2])), plane.send(0, 'a', { n: 3 })];
    assert.equal(offers.length, 1);
    const { p, t } = offers[0];
    assert.equal(p, plane.port);

    const wrong = await open(p);
    sockets.push(wrong);
    wrong.write(hello(0, randomBytes(32)));
    await closed(wrong);
    assert.match(errors.at(-1)!.message, /claiming rank 0.*wrong token/);

    const good = await open(p);
    sockets.push(good);
    const got: [string, unknown][] = [];
    const reader = new FrameReader(1 << 20, (tag, value) => got.push([tag, value]));
    const arrived = new Promise<void>((resolve) => {
      let acked = false;
      good.on('data', (d: Buffer) => {
        if (!acked) { assert.equal(d[0], ACCEPTED); acked = true; d = d.subarray(1); }
        reader.push(d);
        if (got.length === 2) resolve();
      });
    });
    good.write(hello(0, t));
    await Promise.all(sent);
    await arrived;
    assert.deepEqual(got, [['a', new Float64Array([1, 2])], ['a', { n: 3 }]]);

    // Frames from rank 0, split across writes at awkward places, arrive whole and in order.
    const frame = (tag: string, bytes: number[]): Buffer => {
      const body = Buffer.from([2, 0, tag.length, ...Buffer.from(tag), ...bytes]);
      const len = Buffer.alloc(4); len.writeUInt32BE(body.length);
      return Buffer.concat([len, body]);
    };
    const f1 = new Float64Array([3.5]);
    const wire = Buffer.concat([frame('x', [...new Uint8Array(f1.buffer)]), frame('y', [])]);
    for (let i = 0; i < wire.length; i += 3) good.write(wire.subarray(i, i + 3));
    await framesAt(2);
    assert.deepEqual(frames, [['x', f1], ['y', new Float64Array(0)]]);

    // The token was one-time.
    const again = await open(p);
    sockets.push(again);
    again.write(hello(0, t));
    await closed(again);
    assert.match(errors.at(-1)!.message, /no channel was offered/);
    assert.equal(errors.length, 3);
  });
});
