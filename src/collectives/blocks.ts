// Block layout shared by the splitting algorithms and reduceScatter: contiguous, as equal as
// possible, the first (items % parts) blocks one item longer. An item is `unit` elements.

export interface Block { start: number; end: number }

export function block(length: number, parts: number, i: number, unit = 1): Block {
  const items = Math.floor(length / unit);
  const base = Math.floor(items / parts);
  const extra = items % parts;
  const start = (i * base + Math.min(i, extra)) * unit;
  return { start, end: start + (base + (i < extra ? 1 : 0)) * unit };
}

/** Largest power of two ≤ p. */
export function pof2(p: number): number {
  let x = 1;
  while (x * 2 <= p) x *= 2;
  return x;
}
