// Frames on libp2p streams: the codec's frames (codec.ts) in libp2p's buffer list, length-prefixed by
// the stream (it-length-prefixed). Only the libp2p plane needs these, so only it loads libp2p.
import { Uint8ArrayList } from './libp2p-stack.js';
import { checkHead, decodeTag, frameParts, payloadValue, type Frame } from './codec.js';

/** Encodes one message as a frame. */
export function encodeFrame(tag: string, value: unknown): Uint8ArrayList {
  const { head, body, typed } = frameParts(tag, value);
  // A copy, so the sender may reuse its buffer once send() resolves (yamux and noise still hold the frame then).
  return new Uint8ArrayList(head, typed ? body.slice() : body);
}

/** Decodes a frame; throws RangeError/TypeError describing what is malformed. */
export function decodeFrame(frame: Uint8ArrayList): Frame {
  if (frame.byteLength < 3) throw new RangeError(`frame of ${frame.byteLength} bytes is shorter than its 3-byte header`);
  const kind = frame.get(0);
  const tagLen = (frame.get(1) << 8) | frame.get(2);
  checkHead(kind, tagLen, frame.byteLength);
  const tag = decodeTag(frame.subarray(3, 3 + tagLen));
  // A plain Uint8Array view (not a Node Buffer), so bin values decode as Uint8Array.
  const sub = frame.subarray(3 + tagLen);
  return { tag, value: payloadValue(kind, new Uint8Array(sub.buffer, sub.byteOffset, sub.byteLength), false), bytes: frame.byteLength };
}
