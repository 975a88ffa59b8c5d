import { ExtensionCodec, encode as mpEncode, decode as mpDecode } from '@msgpack/msgpack';

// Frame = [kind u8][tagLength u16 BE][tag utf8][payload]. Typed arrays travel as raw bytes (one copy on
// send so the caller may reuse its buffer, one on receive to realign); everything else as MessagePack, whose extension types keep
// typed arrays nested in values typed.

export type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array | BigInt64Array
  | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array;

type TypedCtor = { new (buf: ArrayBuffer, offset?: number, length?: number): TypedArray; BYTES_PER_ELEMENT: number; name: string };

const CTORS: TypedCtor[] = [
  Uint8Array, Float64Array, Float32Array, Int32Array, BigInt64Array,
  Int8Array, Int16Array, Uint16Array, Uint32Array, BigUint64Array,
] as unknown as TypedCtor[];

const KIND_MSGPACK = 0;
// kinds 1..CTORS.length: raw typed array of CTORS[kind - 1]

function typedIndex(v: unknown): number {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return -1;
  return CTORS.findIndex((c) => Object.getPrototypeOf(v) === c.prototype);
}

/** The frame kind a value travels as when it is a typed array (1..), else 0 (MessagePack). */
export function typedKind(v: unknown): number {
  return typedIndex(v) + 1;
}

/** Copies bytes into a fresh, aligned typed array of the kind's type. */
function typedFromBytes(index: number, bytes: Uint8Array): TypedArray {
  const C = CTORS[index];
  if (bytes.byteLength % C.BYTES_PER_ELEMENT !== 0) {
    throw new RangeError(`${C.name} payload of ${bytes.byteLength} bytes is not a multiple of ${C.BYTES_PER_ELEMENT}`);
  }
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return new C(buf);
}

/** The bytes of a typed array or other view, without copying. */
export function viewBytes(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export const extensionCodec = new ExtensionCodec();
// Extension type 1: [ctor index u8][bytes] — all typed arrays but Uint8Array (MessagePack's own bin).
extensionCodec.register({
  type: 1,
  encode: (v: unknown) => {
    const i = typedIndex(v);
    if (i <= 0) return null;
    const bytes = viewBytes(v as ArrayBufferView);
    const out = new Uint8Array(1 + bytes.byteLength);
    out[0] = i;
    out.set(bytes, 1);
    return out;
  },
  decode: (data: Uint8Array) => {
    if (data.byteLength < 1 || data[0] <= 0 || data[0] >= CTORS.length) throw new RangeError('bad typed-array extension');
    return typedFromBytes(data[0], data.subarray(1));
  },
});

export function encodeValue(value: unknown): Uint8Array {
  return mpEncode(value, { extensionCodec, ignoreUndefined: false });
}

export function decodeValue(bytes: Uint8Array): unknown {
  return mpDecode(bytes, { extensionCodec });
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function isTypedArray(v: unknown): v is TypedArray {
  return typedIndex(v) >= 0;
}

/**
 * A frame's parts: `head` = [reserve zero bytes][kind][tagLength][tag], `body` = the payload. A typed
 * array's body is a view of the caller's memory (no copy): the caller copies it if it must outlive
 * the call. `reserve` leaves room in front of the head for a transport's length prefix.
 */
export function frameParts(tag: string, value: unknown, reserve = 0): { head: Uint8Array; body: Uint8Array; typed: boolean } {
  const t = enc.encode(tag);
  if (t.byteLength > 0xffff) throw new RangeError(`tag longer than 65535 bytes`);
  const i = typedIndex(value);
  const head = new Uint8Array(reserve + 3 + t.byteLength);
  head[reserve] = i >= 0 ? i + 1 : KIND_MSGPACK;
  head[reserve + 1] = t.byteLength >> 8;
  head[reserve + 2] = t.byteLength & 0xff;
  head.set(t, reserve + 3);
  return i >= 0 ? { head, body: viewBytes(value as TypedArray), typed: true } : { head, body: encodeValue(value), typed: false };
}

/** Checks a frame's header fields against its length; throws RangeError describing what is malformed. */
export function checkHead(kind: number, tagLen: number, frameBytes: number): void {
  if (3 + tagLen > frameBytes) throw new RangeError(`tag length ${tagLen} overruns a ${frameBytes}-byte frame`);
  if (kind > CTORS.length) throw new RangeError(`unknown frame kind ${kind}`);
  if (kind !== KIND_MSGPACK) {
    const C = CTORS[kind - 1];
    const payload = frameBytes - 3 - tagLen;
    if (payload % C.BYTES_PER_ELEMENT !== 0) throw new RangeError(`${C.name} payload of ${payload} bytes is not a multiple of ${C.BYTES_PER_ELEMENT}`);
  }
}

export function decodeTag(bytes: Uint8Array): string {
  return dec.decode(bytes);
}

/** The value of a payload whose bytes the caller hands over (`owned`: a fresh, exactly sized buffer, used without a copy). */
export function payloadValue(kind: number, payload: Uint8Array, owned: boolean): unknown {
  if (kind === KIND_MSGPACK) return decodeValue(payload);
  if (owned && payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength) return new CTORS[kind - 1](payload.buffer as ArrayBuffer);
  return typedFromBytes(kind - 1, payload);
}

export interface Frame { tag: string; value: unknown; bytes: number }

/** A private copy of a value sent to oneself, so the sender may reuse its buffer. */
export function cloneValue(value: unknown): unknown {
  const i = typedIndex(value);
  if (i >= 0) return typedFromBytes(i, viewBytes(value as TypedArray));
  return decodeValue(encodeValue(value));
}
