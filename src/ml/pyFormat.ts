// Python-style repr of values and dicts, so printed output matches scikit-learn scripts byte for byte.

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    const m = mant; // Python keeps '1e-05', '1.5e-05'
    const sign = exp < 0 ? '-' : '+';
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${m}e${sign}${e}`;
  }
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let s: string;
  if (exp >= 0) {
    s = digits.length > exp + 1 ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}` : `${digits.padEnd(exp + 1, '0')}.0`;
  } else {
    s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return neg ? `-${s}` : s;
}

/** Python `repr` of a parameter value; integral numbers print as ints (the grid's `C: [1, 10]`). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e16 ? String(v) : pyFloatRepr(v);
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') return pyDictRepr(v as Record<string, unknown>);
  return String(v);
}

export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

/** `{'C': 10, 'gamma': 0.001, 'kernel': 'rbf'}` — keys in the object's own order. */
export function pyDictRepr(d: Record<string, unknown>): string {
  return `{${Object.entries(d).map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

/** Python `'%0.3f' % x` (round half to even on the exact binary value, as C printf). */
export function pyFixed(x: number, digits: number): string {
  return formatFixed(x, digits);
}

/**
 * printf-style `%.{d}f`: correctly rounded from the exact binary value, exact ties to even (C's
 * printf and Python's format). JS `toFixed` rounds exact ties away from zero, so ties are fixed here.
 */
export function formatFixed(x: number, d: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s = a.toFixed(d);
  if (a < 1e21) {
    const [ip, fp] = a.toFixed(100).split('.');
    const tail = fp.slice(d);
    if (/^50*$/.test(tail)) {
      const truncated = d === 0 ? ip : `${ip}.${fp.slice(0, d)}`;
      const lastDigit = Number(truncated[truncated.length - 1]);
      if (lastDigit % 2 === 0) s = truncated;
    }
  }
  return neg ? `-${s}` : s;
}
