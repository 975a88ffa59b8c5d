import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DirectPlane, dataPlaneMode, type PlaneHooks } from '../../src/mesh/direct-plane.js';
import { ACCEPT_BYTES, CHALLENGE_BYTES, checkAccept, hello, parseChallenge, type Challenge } from '../../src/mesh/handshake.js';
import { FrameReader } from '../../src/mesh/frame-reader.js';
import { ProtocolError, UsageError } from '../../src/errors.js';
import { rankLogger } from '../../src/log.js';

// The direct plane's admission and framing over real loopback sockets. The plane under test is rank 1;
// the test plays rank 0's process with raw sockets and the handshake's own functions.

const KEY = randomBytes(32);

interface Harness { plane: DirectPlane; errors: ProtocolError[]; frames: [string, unknown][]; framesAt: (n: number) => Promise<void>; lost: string[] }

function hooks(rank: number, over: Partial<PlaneHooks> = {}): PlaneHooks {
  return {
    rank, maxFrameBytes: 1 << 20, timeoutMs: 10_000, log: rankLogger(rank, 'test'), key: KEY, mode: 'direct',
    startupDeadline: Date.now() + 10_000, seenRunning: () => false, endpoint: async () => undefined,
    deliver: () => undefined, closed: () => {}, unreachable: () => {}, protocolError: () => {}, met: () => {},
    overLibp2p: () => {}, startLibp2p: () => Promise.reject(new Error('no libp2p here')), banned: () => false,
    viaLibp2p: () => Promise.reject(new Error('no libp2p here')),
    ...over,
  };
}

async function startPlane(ports: number[] = [0], over: Partial<PlaneHooks> = {}): Promise<Harness> {
  const errors: ProtocolError[] = [];
  const frames: [string, unknown][] = [];
  const lost: string[] = [];
  const waits: [number, () => void][] = [];
  const framesAt = (n: number): Promise<void> => new Promise((r) => (frames.length >= n ? r() : waits.push([n, r])));
  const plane = await DirectPlane.start(hooks(1, {
    deliver: (_peer, tag, value) => {
      frames.push([tag, value]);
      for (const [n, r] of waits) if (frames.length >= n) r();
      return undefined;
    },
    protocolError: (e) => errors.push(e),
    unreachable: (peer, why) => lost.push(`${peer}: ${why}`),
    ...over,
  }), '127.0.0.1', ports);
  return { plane, errors, frames, framesAt, lost };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: Socket): Promise<void> => new Promise((r) => (s.closed ? r() : s.once('close', () => r())));

/** Reads exactly `n` bytes (then whatever follows stays with `rest`). */
function reading(s: Socket): { take: (n: number) => Promise<Buffer>; rest: () => Buffer } {
  let buf = Buffer.alloc(0);
  const waiting: [number, (b: Buffer) => void][] = [];
  const pump = (): void => {
    while (waiting.length > 0 && buf.length >= waiting[0]![0]) {
      const [n, r] = waiting.shift()!;
      r(buf.subarray(0, n));
      buf = buf.subarray(n);
    }
  };
  s.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); pump(); });
  return { take: (n) => new Promise((r) => { waiting.push([n, r]); pump(); }), rest: () => buf };
}

/** Plays rank 0 dialling the plane (to read from it): the challenge, then a hello signed with `key`. */
async function dialAs(port: number, key: Uint8Array, target = 1, flags = 0): Promise<{ s: Socket; ch: Challenge; r: ReturnType<typeof reading>; sent: Buffer }> {
  const s = await open(port);
  const r = reading(s);
  const c = parseChallenge(await r.take(CHALLENGE_BYTES));
  assert.ok(!('error' in c), 'the plane speaks first, with a challenge');
  const sent = hello(key, c, { rank: 0, target, flags, port: 1, pid: process.pid });
  s.write(sent);
  return { s, ch: c, r, sent };
}

describe('mesh/direct-plane: admission and framing on real sockets', function () {
  let plane: DirectPlane | undefined;
  const sockets: Socket[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const s of servers.splice(0)) s.close();
    if (plane) { await plane.close(); plane.destroy(); plane = undefined; }
  });

  it('COMMUNE_DATA_PLANE accepts direct (default) and libp2p, refuses anything else with a usage error', () => {
    assert.equal(dataPlaneMode(undefined), 'direct');
    assert.equal(dataPlaneMode('libp2p'), 'libp2p');
    assert.throws(() => dataPlaneMode('udp'), (e: Error) => e instanceof UsageError && /COMMUNE_DATA_PLANE='udp'/.test(e.message));
  });

  it('a connection that does not start with the handshake is refused, naming its address', async () => {
    let errors: ProtocolError[];
    ({ plane, errors } = await startPlane());
    const s = await open(plane.port);
    sockets.push(s);
    s.on('error', () => {});
    s.resume(); // the plane's challenge
    s.write('GET / HTTP/1.0\r\n\r\n');
    await closed(s);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /127\.0\.0\.1:\d+.*not a commune direct-plane handshake/);
  });

  it('a hello signed with another key, for another rank, or replayed is refused; the job\'s key admits, then queued frames flow in order', async () => {
    let errors: ProtocolError[]; let frames: [string, unknown][]; let framesAt: (n: number) => Promise<void>;
    ({ plane, errors, frames, framesAt } = await startPlane());
    // Frames for rank 0 wait until rank 0 opens its channel.
    const sent = [plane.send(0, 'a', new Float64Array([1, 2])), plane.send(0, 'a', { n: 3 })];

    const other = await dialAs(plane.port, randomBytes(32));
    sockets.push(other.s);
    await closed(other.s);
    assert.match(errors.at(-1)!.message, /claiming rank 0.*wrong key/);

    const misdirected = await dialAs(plane.port, KEY, 7);
    sockets.push(misdirected.s);
    await closed(misdirected.s);
    assert.match(errors.at(-1)!.message, /it wanted rank 7, this is rank 1/);

    const good = await dialAs(plane.port, KEY);
    sockets.push(good.s);
    const a = checkAccept(KEY, good.ch, good.sent, await good.r.take(ACCEPT_BYTES));
    assert.ok(!('error' in a), 'the plane proves it holds the key too');
    assert.equal(a.pid, process.pid);
    const got: [string, unknown][] = [];
    const reader = new FrameReader(1 << 20, (tag, value) => got.push([tag, value]));
    const arrived = new Promise<void>((resolve) => {
      const feed = (d: Buffer): void => { reader.push(d); if (got.length === 2) resolve(); };
      if (good.r.rest().length > 0) feed(good.r.rest());
      good.s.on('data', feed);
    });
    await Promise.all(sent);
    await arrived;
    assert.deepEqual(got, [['a', new Float64Array([1, 2])], ['a', { n: 3 }]]);

    // The recorded hello does not answer a fresh challenge.
    const replay = await open(plane.port);
    sockets.push(replay);
    replay.on('data', () => replay.write(good.sent));
    await closed(replay);
    assert.match(errors.at(-1)!.message, /claiming rank 0.*wrong key/);
    assert.equal(errors.length, 3);

    // Frames from the reading side (BYE, DIAL_BACK and anything else) are parsed all the same.
    const frame = (tag: string, bytes: number[]): Buffer => {
      const body = Buffer.from([2, 0, tag.length, ...Buffer.from(tag), ...bytes]);
      const len = Buffer.alloc(4); len.writeUInt32BE(body.length);
      return Buffer.concat([len, body]);
    };
    const f1 = new Float64Array([3.5]);
    const wire = Buffer.concat([frame('x', [...new Uint8Array(f1.buffer)]), frame('y', [])]);
    for (let i = 0; i < wire.length; i += 3) good.s.write(wire.subarray(i, i + 3));
    await framesAt(2);
    assert.deepEqual(frames, [['x', f1], ['y', new Float64Array(0)]]);
  });

  it('a rank not up yet is dialled again when it comes up; a port taken by another program is passed over for the next candidate', async () => {
    // Rank 0's planned candidates: a port held by an unrelated server, then a free one it binds late.
    const squatter = createServer((s) => { sockets.push(s); s.end('SSH-2.0-not-commune\r\n'); });
    servers.push(squatter);
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as { port: number }).port;
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const late = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    let frames: [string, unknown][]; let framesAt: (n: number) => Promise<void>;
    ({ plane, frames, framesAt } = await startPlane([0], { endpoint: async (peer) => (peer === 0 ? { host: '127.0.0.1', ports: [taken, late] } : undefined) }));
    plane.watch(0); // rank 1 will receive from rank 0: it dials rank 0, which is not up yet
    const zero = await DirectPlane.start(hooks(0, { endpoint: async () => ({ host: '127.0.0.1', ports: [plane!.port] }) }), '127.0.0.1', [taken, late]);
    try {
      assert.equal(zero.port, late, 'rank 0 bound its second candidate: the first was taken');
      await zero.send(1, 'hi', 'there');
      await framesAt(1);
      assert.deepEqual(frames, [['hi', 'there']]);
    } finally {
      await zero.close(); zero.destroy();
    }
  });

  it('a rank met before whose port then refuses is dead; one never met is given up on at the start-up deadline', async () => {
    let lost: string[];
    let zeroPort = 0;
    ({ plane, lost } = await startPlane([0], { startupDeadline: Date.now() + 300, endpoint: async () => ({ host: '127.0.0.1', ports: [zeroPort] }) }));
    const zero = await DirectPlane.start(hooks(0, { endpoint: async () => ({ host: '127.0.0.1', ports: [plane!.port] }) }), '127.0.0.1', [0]);
    zeroPort = zero.port;
    await zero.send(1, 'hi', 1);
    assert.equal(await plane.probe(0), 'alive');
    await zero.close(); zero.destroy();
    assert.equal(await plane.probe(0), 'dead');
    assert.equal(await plane.probe(5), 'unknown', 'never met: a refusal would prove nothing');
    plane.watch(3);
    await new Promise<void>((r) => { const t = setInterval(() => { if (lost.some((l) => l.startsWith('3:'))) { clearInterval(t); r(); } }, 20); });
    assert.match(lost.find((l) => l.startsWith('3:'))!, /by the start-up deadline/);
  });
});
