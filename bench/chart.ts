// Hand-written SVG charts: CPU ms per camera-second against camera count (one line a side), and
// grouped bars (capacity per workload).

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function lineChartSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
): string {
  const W = 640;
  const H = 400;
  const L = 70;
  const R = 150;
  const T = 40;
  const B = 50;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const xMax = niceMax(Math.max(1, ...xs));
  const yMax = niceMax(Math.max(0, ...ys) * 1.1);
  const px = (x: number): number => L + (x / xMax) * (W - L - R);
  const py = (y: number): number => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    out.push(`<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toFixed(2)}</text>`);
    const x = (xMax * i) / 5;
    out.push(`<text x="${px(x)}" y="${H - B + 18}" text-anchor="middle">${+x.toFixed(0)}</text>`);
  }
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`);
  out.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of pts)
      out.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(s.name)}: ${p.x} cameras, ${p.y.toFixed(2)}</title></circle>`,
      );
    const ly = T + 10 + i * 20;
    out.push(
      `<line x1="${W - R + 12}" y1="${ly}" x2="${W - R + 32}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${W - R + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface Bar {
  group: string;
  name: string;
  color: string;
  value: number;
  /** Shown after the value, e.g. '+' when the search stopped at its maximum. */
  suffix?: string;
}

/** Grouped bars (e.g. capacity per workload, one bar a side). */
export function barChartSvg(title: string, yLabel: string, bars: readonly Bar[]): string {
  const W = 640;
  const H = 400;
  const L = 70;
  const R = 150;
  const T = 40;
  const B = 50;
  const groups = [...new Set(bars.map((b) => b.group))];
  const names = [...new Set(bars.map((b) => b.name))];
  const yMax = niceMax(Math.max(1, ...bars.map((b) => b.value)) * 1.1);
  const py = (y: number): number => H - B - (y / yMax) * (H - T - B);
  const gw = (W - L - R) / Math.max(1, groups.length);
  const bw = (gw * 0.7) / Math.max(1, names.length);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    out.push(`<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toFixed(yMax < 10 ? 1 : 0)}</text>`);
  }
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`);
  out.push(
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  groups.forEach((g, gi) => {
    const x0 = L + gi * gw + gw * 0.15;
    out.push(`<text x="${L + gi * gw + gw / 2}" y="${H - B + 18}" text-anchor="middle">${esc(g)}</text>`);
    for (const b of bars.filter((x) => x.group === g)) {
      const x = x0 + names.indexOf(b.name) * bw;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${py(b.value).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(H - B - py(b.value)).toFixed(1)}" fill="${b.color}"><title>${esc(b.name)}: ${b.value}${b.suffix ?? ''}</title></rect>`,
      );
      out.push(
        `<text x="${(x + bw / 2).toFixed(1)}" y="${(py(b.value) - 4).toFixed(1)}" text-anchor="middle">${b.value}${esc(b.suffix ?? '')}</text>`,
      );
    }
  });
  names.forEach((n, i) => {
    const color = bars.find((b) => b.name === n)?.color ?? 'black';
    const ly = T + 10 + i * 20;
    out.push(`<rect x="${W - R + 12}" y="${ly - 6}" width="20" height="12" fill="${color}"/>`);
    out.push(`<text x="${W - R + 38}" y="${ly + 4}">${esc(n)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
