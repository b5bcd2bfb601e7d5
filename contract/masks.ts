// Privacy mask polygons: in the configuration (privacy.masks) and in the simulator's catalog, and
// which pixels they cover, so that the gateway's blanking and the console's live view agree.
import { z } from 'zod';

const unit = z.number().min(0).max(1);

/** Twice the signed area of a polygon (shoelace); 0 for a degenerate one. */
export function polygonArea2(points: readonly (readonly [number, number])[]): number {
  let a = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[(i + 1) % points.length]!;
    a += x0 * y1 - x1 * y0;
  }
  return a;
}

/** A polygon in normalised frame coordinates: [x, y] pairs in 0..1, top-left origin. */
export const polygonSchema = z
  .array(z.tuple([unit, unit]))
  .min(3, 'a polygon needs at least 3 points')
  .max(64, 'a polygon has at most 64 points')
  .refine((p) => Math.abs(polygonArea2(p)) > 1e-9, 'a polygon must enclose an area');

export type Polygon = z.infer<typeof polygonSchema>;

export const cameraMasksSchema = z.array(polygonSchema).max(16, 'at most 16 polygons per camera');

/** The x where the edge (x0,y0)-(x1,y1) crosses the horizontal line y, if it does (half-open in y). */
function crossing(y: number, x0: number, y0: number, x1: number, y1: number): number | undefined {
  if (y0 <= y === y1 <= y) return undefined;
  return x0 + ((y - y0) / (y1 - y0)) * (x1 - x0);
}

/** Masked pixel spans [x0, x1) of row `row` for polygons in pixel units. */
function rowSpans(
  polys: readonly (readonly [number, number])[][],
  row: number,
  width: number,
): [number, number][] {
  const y = row + 0.5;
  const spans: [number, number][] = [];
  for (const p of polys) {
    const xs: number[] = [];
    for (let i = 0; i < p.length; i++) {
      const [ax, ay] = p[i]!;
      const [bx, by] = p[(i + 1) % p.length]!;
      const x = crossing(y, ax, ay, bx, by);
      if (x !== undefined) xs.push(x);
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      // Pixel centres x + 0.5 inside [xa, xb).
      const a = Math.max(0, Math.ceil(xs[i]! - 0.5));
      const b = Math.min(width, Math.ceil(xs[i + 1]! - 0.5));
      if (b > a) spans.push([a, b]);
    }
  }
  spans.sort((s, t) => s[0] - t[0]);
  const merged: [number, number][] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return merged;
}

/** Per row, the masked pixel spans of `polygons` (normalised) on a width x height picture. */
export function maskRows(polygons: readonly Polygon[], width: number, height: number): [number, number][][] {
  const px = polygons.map((p) => p.map(([x, y]) => [x * width, y * height] as [number, number]));
  return Array.from({ length: height }, (_, row) => rowSpans(px, row, width));
}
