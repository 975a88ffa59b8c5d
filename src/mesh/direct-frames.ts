import { frameParts, typedKind } from './codec.js';

// Frames on the direct plane's sockets: [u32 BE length][codec frame]. A small payload is copied behind
// its head and written in one piece; a large typed array is borrowed (written from the caller's memory).

export const BYE = '\u0000bye';
/** Sent by the reading side on its socket: the writer should dial us back (we want to send too). */
export const DIAL_BACK = '\u0000dial-me';

/** Payloads up to this size are copied behind their head and written in one piece. */
const COALESCE_BYTES = 16 * 1024;

/**
 * One frame ready for the socket: [length + head, payload], or one buffer when small. `borrowed`: the
 * payload is the caller's memory (a large typed array, not copied), so the send resolves only once
 * the socket has handed it to the kernel.
 */
export interface Encoded { parts: Uint8Array[]; borrowed: boolean }

/** Frames a message for the socket; small payloads are copied behind their head, large typed arrays borrowed. */
export function encode(tag: string, value: unknown, maxFrameBytes: number): Encoded {
  const kind = typedKind(value);
  if (kind > 0 && (value as ArrayBufferView).byteLength <= COALESCE_BYTES) return encodeSmallTyped(tag, kind, value as ArrayBufferView, maxFrameBytes);
  const { head, body, typed } = frameParts(tag, value, 4);
  const len = head.byteLength - 4 + body.byteLength;
  if (len > maxFrameBytes) throw new RangeError(`message '${tag}' of ${len} bytes exceeds the frame limit of ${maxFrameBytes}`);
  head[0] = len >>> 24; head[1] = (len >>> 16) & 0xff; head[2] = (len >>> 8) & 0xff; head[3] = len & 0xff;
  if (body.byteLength <= COALESCE_BYTES) {
    const one = new Uint8Array(head.byteLength + body.byteLength);
    one.set(head);
    one.set(body, head.byteLength);
    return { parts: [one], borrowed: false };
  }
  return { parts: [head, body], borrowed: typed };
}

/**
 * The small typed-array frame (the latency path: every 8-byte allreduce step) written in one pass into
 * one Buffer from Node's shared pool: no head array, no encoded-tag array, no ArrayBuffer per message,
 * and a Buffer is what the socket writes without converting. Same bytes as frameParts + copy.
 */
function encodeSmallTyped(tag: string, kind: number, value: ArrayBufferView, maxFrameBytes: number): Encoded {
  const tagBytes = Buffer.byteLength(tag, 'utf8');
  if (tagBytes > 0xffff) throw new RangeError(`tag longer than 65535 bytes`);
  const len = 3 + tagBytes + value.byteLength;
  if (len > maxFrameBytes) throw new RangeError(`message '${tag}' of ${len} bytes exceeds the frame limit of ${maxFrameBytes}`);
  const one = Buffer.allocUnsafe(4 + len); // every byte is written below
  one.writeUInt32BE(len, 0);
  one[4] = kind;
  one[5] = tagBytes >> 8;
  one[6] = tagBytes & 0xff;
  one.write(tag, 7, 'utf8');
  one.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), 7 + tagBytes);
  return { parts: [one], borrowed: false };
}

export const BYE_BYTES = encode(BYE, null, Number.MAX_SAFE_INTEGER).parts[0];
export const DIAL_BACK_BYTES = encode(DIAL_BACK, null, Number.MAX_SAFE_INTEGER).parts[0];
