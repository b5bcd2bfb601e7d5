// UltraFace RFB-320 pre- and post-processing, pure so that it is tested without the model.
// Format (assets/PROVENANCE.md): input float32 [1,3,240,320] RGB NCHW, (px - 127) / 128;
// outputs `scores` [1,N,2] softmaxed (index 1 = face), `boxes` [1,N,4] x1,y1,x2,y2 in 0..1.

export const INPUT_WIDTH = 320;
export const INPUT_HEIGHT = 240;
export const INPUT_SIZE = 3 * INPUT_WIDTH * INPUT_HEIGHT;

/** Normalised [x, y, w, h], each 0..1 of the frame. */
export type Box = [number, number, number, number];

export interface Detection {
  box: Box;
  score: number;
}

/**
 * Packed RGB24 of any size -> planar float input. A frame that is not 320x240 is stretched
 * nearest-neighbour (the decoders already scale, so this is a fallback, not the hot path).
 */
export function toInput(
  rgb: Uint8Array,
  width: number,
  height: number,
  out = new Float32Array(INPUT_SIZE),
): Float32Array {
  if (rgb.length < width * height * 3)
    throw new RangeError(`frame has ${rgb.length} bytes, ${width}x${height} RGB needs ${width * height * 3}`);
  const plane = INPUT_WIDTH * INPUT_HEIGHT;
  const same = width === INPUT_WIDTH && height === INPUT_HEIGHT;
  for (let y = 0; y < INPUT_HEIGHT; y++) {
    const sy = same ? y : Math.min(height - 1, Math.floor(((y + 0.5) * height) / INPUT_HEIGHT));
    for (let x = 0; x < INPUT_WIDTH; x++) {
      const sx = same ? x : Math.min(width - 1, Math.floor(((x + 0.5) * width) / INPUT_WIDTH));
      const s = (sy * width + sx) * 3;
      const d = y * INPUT_WIDTH + x;
      out[d] = ((rgb[s] ?? 0) - 127) / 128;
      out[plane + d] = ((rgb[s + 1] ?? 0) - 127) / 128;
      out[2 * plane + d] = ((rgb[s + 2] ?? 0) - 127) / 128;
    }
  }
  return out;
}

/** Intersection over union of two [x, y, w, h] boxes. */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy (hard) NMS, as upstream UltraFace does: highest score first, drop overlaps above `maxIou`. */
export function nms(dets: Detection[], maxIou: number): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.every((k) => iou(k.box, d.box) <= maxIou)) kept.push(d);
  }
  return kept;
}

export interface DecodeOptions {
  scoreThreshold: number;
  /** IoU above which the lower-scored of two boxes is dropped; 0.3 as upstream. */
  nmsIou?: number;
  /** Cap on faces per frame, so a pathological frame cannot flood the tracker. */
  maxDetections?: number;
}

/** Raw outputs -> faces above the threshold after NMS, best first. */
export function decode(scores: Float32Array, boxes: Float32Array, opts: DecodeOptions): Detection[] {
  const n = Math.min(scores.length / 2, boxes.length / 4);
  const found: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const score = scores[2 * i + 1] ?? 0;
    if (!(score >= opts.scoreThreshold)) continue;
    const x1 = clamp01(boxes[4 * i] ?? 0);
    const y1 = clamp01(boxes[4 * i + 1] ?? 0);
    const x2 = clamp01(boxes[4 * i + 2] ?? 0);
    const y2 = clamp01(boxes[4 * i + 3] ?? 0);
    if (x2 <= x1 || y2 <= y1) continue;
    found.push({ box: [x1, y1, x2 - x1, y2 - y1], score });
  }
  return nms(found, opts.nmsIou ?? 0.3).slice(0, opts.maxDetections ?? 50);
}

function clamp01(v: number): number {
  return Math.min(Math.max(v, 0), 1);
}
