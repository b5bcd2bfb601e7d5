// Privacy masks on pixels. Each camera's polygons are rasterised once per resolution into runs of
// masked pixels per row (even-odd rule, sampled at pixel centres); blanking a frame is then one
// Buffer.fill per run, before the motion gate and the detector ever see it.
import { maskRows, type Polygon } from '../../contract/masks.ts';

/** Masked pixels as [start, end) byte ranges of a packed RGB24 frame, merged across row ends. */
export interface MaskRuns {
  width: number;
  height: number;
  /** Flat pairs: start0, end0, start1, end1, ... in bytes. */
  runs: Uint32Array;
  /** How many pixels are masked. */
  pixels: number;
}

export function rasterise(polygons: readonly Polygon[], width: number, height: number): MaskRuns {
  const flat: number[] = [];
  let pixels = 0;
  const rows = maskRows(polygons, width, height);
  for (let row = 0; row < height; row++) {
    for (const [a, b] of rows[row]!) {
      pixels += b - a;
      const start = (row * width + a) * 3;
      const end = (row * width + b) * 3;
      // A span that starts where the previous one ended (a full-width band) becomes one run.
      if (flat.length > 0 && flat[flat.length - 1] === start) flat[flat.length - 1] = end;
      else flat.push(start, end);
    }
  }
  return { width, height, runs: Uint32Array.from(flat), pixels };
}

/** Blanks (zeroes) the masked pixels of a packed RGB24 frame in place. */
export function blank(rgb: Buffer, mask: MaskRuns): void {
  const r = mask.runs;
  for (let i = 0; i < r.length; i += 2) rgb.fill(0, r[i]!, r[i + 1]!);
}

export interface Masks {
  /** Replaces a camera's polygons from one source ('config' or 'catalog'); the union applies. */
  set(cameraId: string, source: 'config' | 'catalog', polygons: readonly Polygon[]): void;
  /** The camera's polygons from every source. */
  polygons(cameraId: string): Polygon[];
  /** Blanks the frame's masked pixels; false when the camera has no mask. */
  apply(cameraId: string, rgb: Buffer, width: number, height: number): boolean;
  cameras(): number;
}

export function createMasks(): Masks {
  const sources = new Map<string, Map<string, readonly Polygon[]>>();
  // Rasterised masks per camera, for the last resolution seen (a camera's frames all have one size).
  const cache = new Map<string, MaskRuns>();
  const polygons = (id: string): Polygon[] => [...(sources.get(id)?.values() ?? [])].flat();
  return {
    set(id, source, polys) {
      const m = sources.get(id) ?? new Map<string, readonly Polygon[]>();
      sources.set(id, m);
      if (polys.length > 0) m.set(source, polys);
      else m.delete(source);
      if (m.size === 0) sources.delete(id);
      cache.delete(id);
    },
    polygons,
    apply(id, rgb, width, height) {
      if (!sources.has(id)) return false;
      let runs = cache.get(id);
      if (!runs || runs.width !== width || runs.height !== height) {
        runs = rasterise(polygons(id), width, height);
        cache.set(id, runs);
      }
      blank(rgb, runs);
      return true;
    },
    cameras: () => sources.size,
  };
}
