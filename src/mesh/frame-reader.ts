import { checkHead, decodeTag, payloadValue, viewBytes } from './codec.js';

// Parses the direct plane's byte stream — [u32 BE frame length][codec frame] repeated — straight from
// socket reads, synchronously, with no async-iterator stages. A frame wholly inside one chunk is
// decoded in place (typed arrays copied once, to realign); a frame spread over chunks has its head
// gathered first, then its payload lands in a buffer of exactly its size, which becomes the typed
// array's own buffer: either copied there from chunks (push), or read there by the kernel directly
// (target + advance, for sockets read with Node's `onread`). Throws RangeError/TypeError on malformed
// input; the caller drops the connection.
//
// Posted receives: once a frame's head is known, `claim(tag, kind, payloadBytes)` may return a typed
// array the receiver posted for it (exactly that kind and byte length, see mailbox.ts); the payload
// then lands in that array's memory — by the kernel for the part read via target(), copied for a frame
// wholly inside one chunk — and the sink gets the posted array itself instead of a fresh one.

export type FrameSink = (tag: string, value: unknown, bytes: number) => void;
export type FrameClaim = (tag: string, kind: number, payloadBytes: number) => ArrayBufferView | undefined;

const NO_CLAIM: FrameClaim = () => undefined;

const Phase = { Length: 0, Head: 1, Body: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export class FrameReader {
  private phase: Phase = Phase.Length;
  private readonly small = new Uint8Array(4);
  private have = 0;
  /** Length of the current frame. */
  private frameBytes = 0;
  /** Head of a frame spread over chunks: [kind][tagLength u16][tag]. */
  private head?: Uint8Array;
  private kind = 0;
  private tag = '';
  private body?: Uint8Array;
  /** The posted array the current body lands in, if one was claimed. */
  private posted?: ArrayBufferView;
  private transient = false;

  constructor(private readonly maxFrameBytes: number, private readonly sink: FrameSink, private readonly claim: FrameClaim = NO_CLAIM) {}

  /** True between frames (nothing partial buffered). */
  get idle(): boolean {
    return this.phase === Phase.Length && this.have === 0;
  }

  /** Where the next read should land: the rest of a payload being received, else undefined (read into scratch and push). */
  target(): Uint8Array | undefined {
    return this.phase === Phase.Body ? this.body!.subarray(this.have) : undefined;
  }

  /** `n` bytes were read into target(). */
  advance(n: number): void {
    this.have += n;
    if (this.have === this.body!.byteLength) this.finish();
  }

  /** Parses `chunk`; `transient`: its memory is reused after this call, so nothing may keep a view of it. */
  push(chunk: Uint8Array, transient = false): void {
    this.transient = transient;
    const n = chunk.byteLength;
    let off = 0;
    while (off < n) {
      switch (this.phase) {
        case Phase.Length: {
          let len: number;
          if (this.have === 0 && n - off >= 4) {
            len = ((chunk[off] << 24) >>> 0) + (chunk[off + 1] << 16) + (chunk[off + 2] << 8) + chunk[off + 3];
            off += 4;
          } else {
            while (this.have < 4 && off < n) this.small[this.have++] = chunk[off++];
            if (this.have < 4) return;
            const s = this.small;
            len = ((s[0] << 24) >>> 0) + (s[1] << 16) + (s[2] << 8) + s[3];
            this.have = 0;
          }
          if (len > this.maxFrameBytes) throw new RangeError(`frame of ${len} bytes exceeds the frame limit of ${this.maxFrameBytes} bytes`);
          if (len < 3) throw new RangeError(`frame of ${len} bytes is shorter than its 3-byte header`);
          this.frameBytes = len;
          if (n - off >= len) {
            this.whole(chunk.subarray(off, off + len));
            off += len;
          } else {
            this.phase = Phase.Head;
            this.head = new Uint8Array(3);
          }
          break;
        }
        case Phase.Head: {
          const head = this.head!;
          const take = Math.min(n - off, head.byteLength - this.have);
          head.set(chunk.subarray(off, off + take), this.have);
          this.have += take;
          off += take;
          if (this.have < head.byteLength) return;
          if (head.byteLength === 3) {
            const tagLen = (head[1] << 8) | head[2];
            checkHead(head[0], tagLen, this.frameBytes);
            if (tagLen > 0) {
              const grown = new Uint8Array(3 + tagLen);
              grown.set(head);
              this.head = grown;
              break;
            }
          }
          this.kind = head[0];
          this.tag = decodeTag(this.head!.subarray(3));
          const payloadBytes = this.frameBytes - this.head!.byteLength;
          this.posted = this.kind !== 0 ? this.claim(this.tag, this.kind, payloadBytes) : undefined;
          this.body = this.posted ? viewBytes(this.posted) : new Uint8Array(payloadBytes);
          this.head = undefined;
          this.have = 0;
          this.phase = Phase.Body;
          if (this.body.byteLength === 0) this.finish();
          break;
        }
        case Phase.Body: {
          const body = this.body!;
          const take = Math.min(n - off, body.byteLength - this.have);
          body.set(chunk.subarray(off, off + take), this.have);
          this.have += take;
          off += take;
          if (this.have === body.byteLength) this.finish();
          break;
        }
      }
    }
  }

  private whole(frame: Uint8Array): void {
    const kind = frame[0];
    const tagLen = (frame[1] << 8) | frame[2];
    checkHead(kind, tagLen, frame.byteLength);
    const tag = decodeTag(frame.subarray(3, 3 + tagLen));
    // A plain Uint8Array view (not a Node Buffer), so MessagePack bin values decode as Uint8Array.
    let payload = new Uint8Array(frame.buffer, frame.byteOffset + 3 + tagLen, frame.byteLength - 3 - tagLen);
    const posted = kind !== 0 ? this.claim(tag, kind, payload.byteLength) : undefined;
    if (posted) {
      viewBytes(posted).set(payload);
      this.sink(tag, posted, frame.byteLength);
      return;
    }
    // MessagePack bin values are views of their input: give them memory of their own.
    if (this.transient && kind === 0) payload = payload.slice();
    this.sink(tag, payloadValue(kind, payload, false), frame.byteLength);
  }

  private finish(): void {
    const { kind, tag, body, frameBytes, posted } = this;
    this.body = undefined;
    this.posted = undefined;
    this.have = 0;
    this.phase = Phase.Length;
    this.sink(tag, posted ?? payloadValue(kind, body!, true), frameBytes);
  }
}
