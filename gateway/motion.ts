// Motion gate: skip the detector for frames in which nothing changed. The test is a small grey
// thumbnail (8x8-pixel cells: 40x30 for 320x240) compared with the last frame that passed.
// The score is the mean absolute grey difference of the most changed region (5x5 cells, 40x40 px),
// not of the whole frame: a 30 px face walking in changes ~1 % of a frame, which a whole-frame mean
// would dilute below any threshold that also rejects encoder noise.
import type { Frame } from './frame.ts';

export interface MotionGateOptions {
  /** Mean absolute grey difference (0..255) in the most changed region that counts as motion. */
  threshold: number;
  /** Let a frame through at least this often (capture time) without motion: a person standing still. */
  forceEveryS: number;
  /** Thumbnail cell size in pixels. */
  cellPx?: number;
  /** Region size in cells over which differences are averaged. */
  regionCells?: number;
}

export type GateReason = 'first' | 'motion' | 'forced' | 'bypass' | 'still';

export interface GateResult {
  pass: boolean;
  reason: GateReason;
  /** The change score; -1 when there was nothing to compare with. */
  diff: number;
}

export interface MotionGate {
  /** `bypass`: pass regardless (e.g. a face is being tracked here, so its leaving must be seen). */
  check(frame: Frame, opts?: { bypass?: boolean }): GateResult;
  removeCamera(cameraId: string): void;
  cameras(): number;
  close(): void;
}

interface CameraState {
  thumb: Uint8Array;
  tw: number;
  th: number;
  lastPassTs: number;
}

/** Grey thumbnail, one byte per cell, from a 4x4 sample grid per cell (cheap: 1/4 of the pixels). */
export function thumbnail(
  rgb: Uint8Array,
  width: number,
  height: number,
  cellPx: number,
): { thumb: Uint8Array; tw: number; th: number } {
  const tw = Math.max(1, Math.floor(width / cellPx));
  const th = Math.max(1, Math.floor(height / cellPx));
  const thumb = new Uint8Array(tw * th);
  const step = Math.max(1, cellPx >> 2);
  for (let cy = 0; cy < th; cy++) {
    for (let cx = 0; cx < tw; cx++) {
      let sum = 0;
      let n = 0;
      for (let y = cy * cellPx; y < (cy + 1) * cellPx; y += step) {
        let i = (y * width + cx * cellPx) * 3;
        for (let x = 0; x < cellPx; x += step, i += step * 3) {
          // ITU-R BT.601 luma in fixed point.
          sum += (77 * (rgb[i] ?? 0) + 150 * (rgb[i + 1] ?? 0) + 29 * (rgb[i + 2] ?? 0)) >> 8;
          n++;
        }
      }
      thumb[cy * tw + cx] = n > 0 ? Math.round(sum / n) : 0;
    }
  }
  return { thumb, tw, th };
}

/** Largest mean absolute difference over regions of `regionCells` x `regionCells` cells. */
export function regionDiff(
  a: Uint8Array,
  b: Uint8Array,
  tw: number,
  th: number,
  regionCells: number,
): number {
  let best = 0;
  for (let ry = 0; ry < th; ry += regionCells) {
    for (let rx = 0; rx < tw; rx += regionCells) {
      let sum = 0;
      let n = 0;
      for (let y = ry; y < Math.min(th, ry + regionCells); y++) {
        for (let x = rx; x < Math.min(tw, rx + regionCells); x++) {
          sum += Math.abs((a[y * tw + x] ?? 0) - (b[y * tw + x] ?? 0));
          n++;
        }
      }
      if (n > 0 && sum / n > best) best = sum / n;
    }
  }
  return best;
}

export function createMotionGate(opts: MotionGateOptions): MotionGate {
  const cellPx = opts.cellPx ?? 8;
  const regionCells = opts.regionCells ?? 5;
  const forceMs = opts.forceEveryS * 1000;
  const state = new Map<string, CameraState>();

  function check(frame: Frame, o?: { bypass?: boolean }): GateResult {
    const { thumb, tw, th } = thumbnail(frame.rgb, frame.width, frame.height, cellPx);
    const prev = state.get(frame.cameraId);
    const pass = (reason: GateReason, diff: number): GateResult => {
      // The reference moves only when a frame passes, so slow drift adds up until it is seen.
      state.set(frame.cameraId, { thumb, tw, th, lastPassTs: frame.captureTs });
      return { pass: true, reason, diff };
    };
    if (!prev || prev.tw !== tw || prev.th !== th) return pass('first', -1);
    const diff = regionDiff(prev.thumb, thumb, tw, th, regionCells);
    if (o?.bypass) return pass('bypass', diff);
    if (diff >= opts.threshold) return pass('motion', diff);
    // A capture clock that went backwards (decoder restart) also forces a look.
    const since = frame.captureTs - prev.lastPassTs;
    if (since >= forceMs || since < 0) return pass('forced', diff);
    return { pass: false, reason: 'still', diff };
  }

  return {
    check,
    removeCamera: (id) => void state.delete(id),
    cameras: () => state.size,
    close: () => state.clear(),
  };
}
