import assert from 'node:assert/strict';
import { encode } from '../../src/mesh/direct-frames.js';
import { FrameReader } from '../../src/mesh/frame-reader.js';
import { Mailbox } from '../../src/mesh/mailbox.js';
import { typedKind } from '../../src/mesh/codec.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { startMeshes, closeAll } from '../support/meshes.js';

// Posted receives (MPI's expected-message path): a destination posted for (rank, tag) before the frame
// arrives takes its payload directly; anything else falls back to a fresh array, with the same bits.

const LIMIT = 64 * 1024 * 1024;

function frameBytes(tag: string, value: unknown): Uint8Array {
  const { parts } = encode(tag, value, LIMIT);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.byteLength; }
  return out;
}

function sample(n: number, seed = 1): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 1e6 + i / 7);
}

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('mesh/posted receives: frame reader', function () {
  const sent = sample(20000);
  const frame = frameBytes('t', sent);

  it('a frame spread over small chunks lands in the claimed array, and the sink gets that array', () => {
    const dest = new Float64Array(sent.length);
    const got: unknown[] = [];
    const r = new FrameReader(LIMIT, (_t, v) => got.push(v), (tag, kind, bytes) =>
      (tag === 't' && kind === typedKind(dest) && bytes === dest.byteLength ? dest : undefined));
    for (let off = 0; off < frame.byteLength; off += 997) r.push(frame.subarray(off, off + 997), true);
    assert.equal(got.length, 1);
    assert.equal(got[0], dest);
    assert.ok(sameBits(dest, sent));
  });

  it('reads through target()/advance() go straight into the claimed array\'s memory', () => {
    const dest = new Float64Array(sent.length);
    const got: unknown[] = [];
    const r = new FrameReader(LIMIT, (_t, v) => got.push(v), () => dest);
    r.push(frame.subarray(0, 100), true);
    let off = 100;
    for (let t = r.target(); t; t = r.target()) {
      assert.equal(t.buffer, dest.buffer, 'the read target is the posted array');
      const n = Math.min(t.byteLength, 4096);
      t.set(frame.subarray(off, off + n));
      off += n;
      r.advance(n);
    }
    assert.equal(off, frame.byteLength);
    assert.equal(got[0], dest);
    assert.ok(sameBits(dest, sent));
  });

  it('a frame wholly inside one chunk is copied into the claimed array', () => {
    const small = sample(5, 3);
    const dest = new Float64Array(5);
    const got: unknown[] = [];
    const r = new FrameReader(LIMIT, (_t, v) => got.push(v), () => dest);
    r.push(frameBytes('s', small), true);
    assert.equal(got[0], dest);
    assert.ok(sameBits(dest, small));
  });

  it('without a claim (or for a MessagePack frame) the sink gets a fresh array, as before', () => {
    const got: unknown[] = [];
    let asked = 0;
    const r = new FrameReader(LIMIT, (_t, v) => got.push(v), () => { asked++; return undefined; });
    for (let off = 0; off < frame.byteLength; off += 65536) r.push(frame.subarray(off, off + 65536), true);
    r.push(frameBytes('m', { a: 1 }), true);
    assert.equal(asked, 1, 'typed-array frames only');
    assert.ok(got[0] instanceof Float64Array && sameBits(got[0], sent));
    assert.deepEqual(got[1], { a: 1 });
  });
});

describe('mesh/posted receives: mailbox', function () {
  it('a posted array is claimed only by a frame of exactly its type and byte length', async () => {
    const mb = new Mailbox(0);
    const dest = new Float64Array(4);
    const p = mb.receiveInto(1, 't', dest, 0);
    assert.equal(mb.claim(1, 't', typedKind(dest), 24), undefined, 'wrong length');
    assert.equal(mb.claim(1, 't', typedKind(new Float32Array(8)), 32), undefined, 'wrong type');
    assert.equal(mb.claim(2, 't', typedKind(dest), 32), undefined, 'other rank');
    assert.equal(mb.claim(1, 't', typedKind(dest), 32), dest);
    assert.equal(mb.claim(1, 't', typedKind(dest), 32), undefined, 'a post is used once');
    mb.deliver(1, 't', dest, 32);
    assert.equal(await p, dest);
  });

  it('a mismatched frame is delivered as a fresh array and ends the post', async () => {
    const mb = new Mailbox(0);
    const dest = new Float64Array(4);
    const p = mb.receiveInto(1, 't', dest, 0);
    const fresh = new Float64Array([1, 2, 3]);
    assert.equal(mb.claim(1, 't', typedKind(fresh), 24), undefined);
    mb.deliver(1, 't', fresh, 24);
    assert.equal(await p, fresh);
    assert.deepEqual([...dest], [0, 0, 0, 0], 'the posted array is untouched');
    assert.equal(mb.claim(1, 't', typedKind(dest), 32), undefined);
  });

  it('a message already queued is returned as it is, and nothing is posted', async () => {
    const mb = new Mailbox(0);
    const early = new Float64Array([5, 6]);
    mb.deliver(1, 't', early, 16);
    const dest = new Float64Array(2);
    assert.equal(await mb.receiveInto(1, 't', dest, 0), early);
    assert.equal(mb.claim(1, 't', typedKind(dest), 16), undefined);
  });

  it('a receive queued behind another on the same (rank, tag) posts nothing: the next message belongs to the first', async () => {
    const mb = new Mailbox(0);
    const first = mb.receive(1, 't', 0);
    const dest = new Float64Array(2);
    const second = mb.receiveInto(1, 't', dest, 0);
    assert.equal(mb.claim(1, 't', typedKind(dest), 16), undefined);
    const m1 = new Float64Array([1, 2]), m2 = new Float64Array([3, 4]);
    mb.deliver(1, 't', m1, 16);
    mb.deliver(1, 't', m2, 16);
    assert.equal(await first, m1);
    assert.equal(await second, m2);
  });

  it('a receive that times out, is abandoned (unpost), or loses its peer withdraws its post', async () => {
    const mb = new Mailbox(0);
    const a = new Float64Array(2), b = new Float64Array(2), c = new Float64Array(2);
    await assert.rejects(mb.receiveInto(1, 'a', a, 1), /a/);
    assert.equal(mb.claim(1, 'a', typedKind(a), 16), undefined);
    void mb.receiveInto(1, 'b', b, 0);
    mb.unpost(1, 'b', b);
    assert.equal(mb.claim(1, 'b', typedKind(b), 16), undefined);
    const pc = mb.receiveInto(2, 'c', c, 0);
    mb.markLost(2, 'gone');
    await assert.rejects(pc);
    assert.equal(mb.claim(2, 'c', typedKind(c), 16), undefined);
  });
});

describe('mesh/posted receives: real meshes (COMMUNE_DATA_PLANE as set)', function () {
  let meshes: Mesh[] = [];
  before(async () => { ({ meshes } = await startMeshes(2)); });
  after(async () => { await closeAll(meshes); meshes = []; });
  const direct = (process.env.COMMUNE_DATA_PLANE ?? 'direct') !== 'libp2p';

  it('posted before the frame arrives: the payload lands in the posted array (direct plane), same bits either way', async () => {
    const sent = sample(131072, 5);
    for (let round = 0; round < 3; round++) {
      const dest = new Float64Array(sent.length);
      const got = meshes[1].recvInto(0, `pre${round}`, dest);
      await meshes[0].send(1, `pre${round}`, sent);
      const v = await got;
      if (direct) assert.equal(v, dest); else assert.ok(v instanceof Float64Array);
      assert.ok(sameBits(v as Float64Array, sent));
    }
  });

  it('posted after the frame arrived: the queued fresh array is returned, same bits', async () => {
    const sent = sample(131072, 6);
    await meshes[0].send(1, 'late', sent);
    await meshes[0].send(1, 'marker', null);
    await meshes[1].recv(0, 'marker'); // same channel, in order: 'late' is queued by now
    const dest = new Float64Array(sent.length);
    const v = await meshes[1].recvInto(0, 'late', dest);
    assert.notEqual(v, dest);
    assert.ok(sameBits(v as Float64Array, sent));
    assert.ok(dest.every((x) => x === 0));
  });

  it('a posted array of the wrong size or type is left alone: the message arrives as a fresh array', async () => {
    const sent = sample(100000, 7);
    for (const dest of [new Float64Array(sent.length - 1), new Float32Array(sent.length * 2)]) {
      const got = meshes[1].recvInto(0, 'wrong', dest);
      await meshes[0].send(1, 'wrong', sent);
      const v = await got;
      assert.notEqual(v, dest);
      assert.ok(v instanceof Float64Array && sameBits(v, sent));
      assert.ok((dest as Float64Array).every((x) => x === 0));
    }
  });
});

describe('mesh/direct plane: small typed-array frames', function () {
  it('are encoded in one pooled buffer with exactly the bytes of the general framing', async () => {
    const { frameParts } = await import('../../src/mesh/codec.js');
    for (const [tag, value] of [
      ['c0/1/recursive_doubling/rd1', new Float64Array([1.5])],
      ['', new Int32Array([1, -2, 3])],
      ['ünïcødé/タグ', new BigInt64Array([-5n])],
      ['t', new Uint8Array(0)],
      ['big', new Float32Array(4096)],
    ] as const) {
      const { parts } = encode(tag, value, LIMIT);
      assert.equal(parts.length, 1);
      const { head, body } = frameParts(tag, value, 4);
      const len = head.byteLength - 4 + body.byteLength;
      head[0] = len >>> 24; head[1] = (len >>> 16) & 0xff; head[2] = (len >>> 8) & 0xff; head[3] = len & 0xff;
      assert.ok(Buffer.from(parts[0]).equals(Buffer.concat([head, body])), `tag '${tag}'`);
      const got: unknown[] = [];
      new FrameReader(LIMIT, (t, v) => got.push([t, v])).push(parts[0], true);
      assert.deepEqual(got, [[tag, value]]);
    }
  });
});
