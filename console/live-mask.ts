// Privacy masks in live views, drawn by ffmpeg so masked pixels never leave the console's host.
// Polygons become filled drawbox rectangles in units of the picture (iw, ih), so the filter does
// not depend on the stream's size: each polygon is rasterised on a fine grid, rows are grouped
// into bands whose covered spans are unioned (a band covers at least what any of its rows does),
// and equal neighbouring bands merge. A rectangle is one box; a triangle a few dozen.
import type { Polygon } from '../config/privacy.ts';
import { maskRows } from '../contract/masks.ts';

const GRID_W = 1280;
const GRID_H = 720;
const BAND = 8;

/** Normalised [x, y, w, h] boxes that cover the polygons. */
export function maskBoxes(polygons: readonly Polygon[]): [number, number, number, number][] {
  const rows = maskRows(polygons, GRID_W, GRID_H);
  const bands: { y0: number; y1: number; spans: [number, number][] }[] = [];
  for (let y = 0; y < GRID_H; y += BAND) {
    const all = rows
      .slice(y, y + BAND)
      .flat()
      .sort((a, b) => a[0] - b[0]);
    const spans: [number, number][] = [];
    for (const s of all) {
      const last = spans[spans.length - 1];
      if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
      else spans.push([s[0], s[1]]);
    }
    const prev = bands[bands.length - 1];
    if (prev && prev.y1 === y && JSON.stringify(prev.spans) === JSON.stringify(spans)) prev.y1 = y + BAND;
    else bands.push({ y0: y, y1: y + BAND, spans });
  }
  const boxes: [number, number, number, number][] = [];
  for (const b of bands)
    for (const [x0, x1] of b.spans) {
      // One grid pixel more on each side: an edge pixel of the output is never left half covered.
      const a = Math.max(0, x0 - 1);
      const z = Math.min(GRID_W, x1 + 1);
      boxes.push([a / GRID_W, b.y0 / GRID_H, (z - a) / GRID_W, (b.y1 - b.y0) / GRID_H]);
    }
  return boxes;
}

const n = (v: number): string => v.toFixed(5).replace(/\.?0+$/, '') || '0';

/** ffmpeg filters that fill the boxes black, e.g. `drawbox=x=iw*0.1:y=…:t=fill`, joined by commas. */
export function maskFilter(polygons: readonly Polygon[]): string {
  return maskBoxes(polygons)
    .map(
      ([x, y, w, h]) =>
        `drawbox=x=floor(iw*${n(x)}):y=floor(ih*${n(y)}):w=ceil(iw*${n(w)})+1:h=ceil(ih*${n(h)})+1:color=black:t=fill`,
    )
    .join(',');
}
