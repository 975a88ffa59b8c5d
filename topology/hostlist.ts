// Slurm hostlist expressions, matching `scontrol show hostnames` / `scontrol show hostlist` (checked against
// slurm-wlm 22.05). Rules taken from Slurm's hostlist.c and verified with the real scontrol:
//  - Top-level separators are ',', space and tab; commas inside brackets belong to the bracket.
//  - A range's zero padding is the length of its low bound: n[01-3] → n01 n02 n03, n[1-03] → n1 n2 n3.
//  - Text may precede a bracket group but must not follow the last one (n[1-2]x is invalid, n[1-2]x[3] is fine).
//  - Several groups expand in Slurm's (surprising) order: the last group varies fastest, then the first,
//    second, ... up to the second-to-last, which varies slowest: a[1-2]b[3-4]c[5-6] → a1b3c5 a1b3c6 a2b3c5 ...
//  - Compression never sorts or removes duplicates; only a name directly following a range with the same
//    prefix, the next number and a compatible padding extends it, and adjacent same-prefix ranges share brackets.
// We are stricter than scontrol on malformed input it silently tolerates (unclosed '[', stray ']', 'n[1-]',
// blanks inside brackets): those are errors here, never a guess.

import { TopologyError } from './errors.js';

/** Slurm's per-range limit (MAX_RANGE in hostlist.c); larger ranges are almost certainly typos. */
const MAX_RANGE = 64 * 1024;
/** Guard against expressions whose several groups multiply into millions of names. */
const MAX_HOSTS = 1 << 20;
/** Longest numeric field we treat as a number: beyond this, doubles stop being exact. */
const MAX_DIGITS = 15;

const SEPARATORS = new Set([',', ' ', '\t', '\n']);

interface Token {
  text: string;
  /** Offset of the token in the whole expression, for error positions. */
  at: number;
}

function fail(expr: string, at: number, what: string): never {
  throw new TopologyError(`invalid hostlist '${expr}': ${what} at column ${at + 1}`);
}

/** Split at top-level separators; a bracket group is never split. */
function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let start = -1;
  let open = -1;
  for (let i = 0; i <= expr.length; i++) {
    const c = i < expr.length ? expr[i]! : ',';
    if (c === '[') {
      if (open >= 0) fail(expr, i, "nested '['");
      open = i;
    } else if (c === ']') {
      if (open < 0) fail(expr, i, "']' without a matching '['");
      open = -1;
    }
    const separator = open < 0 && SEPARATORS.has(c);
    if (separator) {
      if (start >= 0) tokens.push({ text: expr.slice(start, i), at: start });
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (open >= 0) fail(expr, open, "'[' is never closed");
  return tokens;
}

interface Range {
  lo: number;
  hi: number;
  width: number;
}

/** Parse the inside of one bracket group: `01-03,7`. */
function parseGroup(expr: string, body: string, at: number): Range[] {
  if (body === '') fail(expr, at, 'empty bracket group');
  const ranges: Range[] = [];
  let offset = at;
  for (const item of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) fail(expr, offset, `range '${item}' is not N or N-M with decimal digits`);
    const [, loText, hiText] = m;
    if (loText!.length > MAX_DIGITS || (hiText ?? '').length > MAX_DIGITS) fail(expr, offset, `number in '${item}' is too long`);
    const lo = Number(loText);
    const hi = hiText === undefined ? lo : Number(hiText);
    if (hi < lo) fail(expr, offset, `range '${item}' is descending`);
    if (hi - lo + 1 > MAX_RANGE) fail(expr, offset, `range '${item}' has more than ${MAX_RANGE} hosts`);
    ranges.push({ lo, hi, width: loText!.length });
    offset += item.length + 1;
  }
  return ranges;
}

/** The names one group contributes, in order, with the group's padding. */
function groupValues(ranges: Range[]): string[] {
  const values: string[] = [];
  for (const r of ranges) {
    for (let n = r.lo; n <= r.hi; n++) values.push(String(n).padStart(r.width, '0'));
  }
  return values;
}

function expandToken(expr: string, token: Token, budget: number): string[] {
  const { text, at } = token;
  const texts: string[] = [];
  const groups: string[][] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '[') {
      literal += c;
      continue;
    }
    const close = text.indexOf(']', i);
    texts.push(literal);
    literal = '';
    groups.push(groupValues(parseGroup(expr, text.slice(i + 1, close), at + i + 1)));
    i = close;
  }
  if (groups.length === 0) return [text];
  if (literal !== '') {
    fail(expr, at + text.length - literal.length, `text '${literal}' after the last bracket group (Slurm allows text only before a group)`);
  }
  const count = groups.reduce((n, g) => n * g.length, 1);
  if (count > budget) fail(expr, at, `expands to more than ${MAX_HOSTS} names`);

  // Slurm expands the last group innermost, and the others from the second-to-last (outermost) down to the first.
  const k = groups.length;
  const order = [...Array.from({ length: k - 1 }, (_, i) => k - 2 - i), k - 1];
  const chosen: string[] = new Array<string>(k);
  const names: string[] = [];
  const walk = (depth: number): void => {
    if (depth === k) {
      let name = '';
      for (let g = 0; g < k; g++) name += texts[g]! + chosen[g]!;
      names.push(name);
      return;
    }
    const g = order[depth]!;
    for (const v of groups[g]!) {
      chosen[g] = v;
      walk(depth + 1);
    }
  };
  walk(0);
  return names;
}

/** Expand a Slurm hostlist expression into host names, in scontrol's order (duplicates kept). */
export function expandHostlist(expr: string): string[] {
  const names: string[] = [];
  for (const token of tokenize(expr)) {
    names.push(...expandToken(expr, token, MAX_HOSTS - names.length));
  }
  return names;
}

/** A run of names prefix+number; `minWidth..maxWidth` are the paddings that reproduce every member's text. */
interface Run {
  prefix: string;
  lo: number;
  hi: number;
  loText: string;
  hiText: string;
  minWidth: number;
  maxWidth: number;
}

/** A name without a numeric suffix (or with one too long to be a number) stands alone, like Slurm's singlehost. */
type Item = Run | { single: string };

function splitName(name: string): { prefix: string; digits: string } | undefined {
  const m = /^(.*?)(\d+)$/s.exec(name);
  if (!m || m[2]!.length > MAX_DIGITS) return undefined;
  return { prefix: m[1]!, digits: m[2]! };
}

/** Widths w with String(n).padStart(w, '0') === digits: exactly its length if zero-padded, else 1..length. */
function widthsOf(digits: string): [number, number] {
  return digits.length > 1 && digits.startsWith('0') ? [digits.length, digits.length] : [1, digits.length];
}

function checkName(name: string, index: number): void {
  if (name === '') throw new TopologyError(`cannot compress host names: name #${index + 1} is empty`);
  if (/[\s,[\]]/.test(name)) {
    throw new TopologyError(`cannot compress host names: '${name}' (#${index + 1}) contains a separator or bracket`);
  }
}

/** Compress host names into a Slurm hostlist expression, like `scontrol show hostlist` (order kept, no sorting). */
export function compressHostlist(names: string[]): string {
  const items: Item[] = [];
  names.forEach((name, index) => {
    checkName(name, index);
    const parts = splitName(name);
    if (!parts) {
      items.push({ single: name });
      return;
    }
    const n = Number(parts.digits);
    const [lo, hi] = widthsOf(parts.digits);
    const last = items[items.length - 1];
    if (last && !('single' in last) && last.prefix === parts.prefix && last.hi + 1 === n) {
      const minWidth = Math.max(last.minWidth, lo);
      const maxWidth = Math.min(last.maxWidth, hi);
      if (minWidth <= maxWidth) {
        Object.assign(last, { hi: n, hiText: parts.digits, minWidth, maxWidth });
        return;
      }
    }
    items.push({ prefix: parts.prefix, lo: n, hi: n, loText: parts.digits, hiText: parts.digits, minWidth: lo, maxWidth: hi });
  });

  const out: string[] = [];
  for (let i = 0; i < items.length; ) {
    const first = items[i]!;
    if ('single' in first) {
      out.push(first.single);
      i++;
      continue;
    }
    // Adjacent runs with the same prefix share one bracket group, whatever their padding.
    const group: Run[] = [first];
    for (i++; i < items.length; i++) {
      const next = items[i]!;
      if ('single' in next || next.prefix !== first.prefix) break;
      group.push(next);
    }
    const body = group.map((r) => (r.lo === r.hi ? r.loText : `${r.loText}-${r.hiText}`)).join(',');
    out.push(group.length === 1 && first.lo === first.hi ? first.prefix + body : `${first.prefix}[${body}]`);
  }
  return out.join(',');
}
