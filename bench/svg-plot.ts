// A minimal SVG line plot (no dependency worth adding for two charts): x on a log2 axis, y linear in
// [0, yMax] (default 1.1, for efficiencies), measured points as markers and curves as lines, one colour per series.

export interface Series {
  label: string;
  colour: string;
  /** Solid for one engine, dashed for the other. */
  dashed?: boolean;
  points: Array<[number, number]>;
  /** Measured points are drawn as markers without a line. */
  markers?: boolean;
}

const W = 760;
const H = 440;
const M = { left: 60, right: 230, top: 40, bottom: 50 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick steps for an axis from 0 to `max`: about five of them. */
function ticksUpTo(max: number): number[] {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let y = 0; y <= max + 1e-9; y += step) out.push(Number(y.toFixed(10)));
  return out;
}

export function linePlot(title: string, xLabel: string, yLabel: string, series: readonly Series[], yMax = 1.1): string {
  const xs = series.flatMap((s) => s.points.map(([x]) => x)).filter((x) => x > 0);
  const x0 = Math.log2(Math.min(...xs, 1));
  const x1 = Math.log2(Math.max(...xs, 2));
  const px = (x: number): number => M.left + ((Math.log2(x) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - (Math.min(Math.max(y, 0), yMax) / yMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - M.right / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const x = px(2 ** e);
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${2 ** e}</text>`);
  }
  for (const y of yMax === 1.1 ? [0, 0.2, 0.4, 0.6, 0.8, 1] : ticksUpTo(yMax)) {
    out.push(`<line x1="${M.left}" y1="${py(y)}" x2="${W - M.right}" y2="${py(y)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${py(y) + 4}" text-anchor="end">${yMax === 1.1 ? y.toFixed(1) : String(y)}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => x > 0 && Number.isFinite(y));
    if (s.markers) {
      for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${s.colour}"/>`);
    } else if (pts.length > 0) {
      out.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    }
    const ly = M.top + 14 + i * 18;
    const lx = W - M.right + 14;
    out.push(s.markers
      ? `<circle cx="${lx + 12}" cy="${ly - 4}" r="4" fill="${s.colour}"/>`
      : `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
