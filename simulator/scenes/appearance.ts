// One planned appearance (a person, a cat, a distractor): its size, its three-piece path across
// the frame, where ffmpeg's overlay puts it on each frame, and the ground-truth boxes that follow.
// Apart from the clip plan (schedule.ts) so the path formula and its truth sit side by side.
import type { Appearance, Box, SceneSpec } from './types.ts';
import type { SceneAsset } from './assets.ts';
import { uniform, type Rng } from './prng.ts';

/**
 * A piece of a path, valid from frame f0 until the next piece: the overlay's top-left corner is
 * (x0 + kx * (f - f0), y0 + ky * (f - f0)). All numbers have at most 4 decimals, so ffmpeg parses
 * exactly the doubles that TypeScript computes with.
 */
export interface Segment {
  f0: number;
  x0: number;
  kx: number;
  y0: number;
  ky: number;
}

export interface PlannedAppearance {
  id: string;
  asset: SceneAsset;
  /** What the truth calls it (the asset's name unless a distractor says otherwise). */
  label: string;
  isFace: boolean;
  /** Gaussian blur sigma in overlay pixels (0: sharp). */
  blur: number;
  /** Overlay size in pixels (the scaled crop), even numbers. */
  w: number;
  h: number;
  /** The face inside the overlay, in overlay pixels (after mirroring). */
  face: { x: number; y: number; w: number; h: number };
  flip: boolean;
  /** eq filter values. */
  brightness: number;
  contrast: number;
  /** Frames during which the overlay is enabled (both ends off-screen). */
  fStart: number;
  fEnd: number;
  segments: [Segment, Segment, Segment];
}

/** Rounded to 4 decimals: what ffmpeg parses back exactly (see Segment). */
export const q4 = (v: number): number => Math.round(v * 1e4) / 1e4;
const even = (v: number): number => Math.max(2, 2 * Math.round(v / 2));

/** Where ffmpeg's overlay puts the top-left corner at frame f, exactly as vf_overlay does it. */
export function overlayPosition(app: PlannedAppearance, f: number): { x: number; y: number } | undefined {
  if (f < app.fStart || f > app.fEnd) return undefined;
  let seg = app.segments[0];
  for (const s of app.segments) if (f >= s.f0) seg = s;
  const x = seg.x0 + seg.kx * (f - seg.f0);
  const y = seg.y0 + seg.ky * (f - seg.f0);
  // vf_overlay: (int)value & ~((1 << chroma_subsampling) - 1); yuv420p subsamples by 2 both ways.
  return { x: Math.trunc(x) & ~1, y: Math.trunc(y) & ~1 };
}

/** The face box in frame pixels at frame f, clipped to the frame; undefined when not visible. */
export function faceBoxPx(app: PlannedAppearance, f: number, width: number, height: number): Box | undefined {
  const p = overlayPosition(app, f);
  if (!p) return undefined;
  const x0 = Math.max(0, p.x + app.face.x);
  const y0 = Math.max(0, p.y + app.face.y);
  const x1 = Math.min(width, p.x + app.face.x + app.face.w);
  const y1 = Math.min(height, p.y + app.face.y + app.face.h);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Ground truth of one planned appearance: per-frame normalised boxes while any of the face is visible. */
export function appearanceTruth(app: PlannedAppearance, spec: SceneSpec): Appearance {
  const boxes: Appearance['boxes'] = [];
  const r6 = (v: number): number => Math.round(v * 1e6) / 1e6;
  for (let f = app.fStart; f <= app.fEnd; f++) {
    const b = faceBoxPx(app, f, spec.width, spec.height);
    if (!b) continue;
    boxes.push({
      frame: f,
      box: {
        x: r6(b.x / spec.width),
        y: r6(b.y / spec.height),
        w: r6(b.w / spec.width),
        h: r6(b.h / spec.height),
      },
    });
  }
  const first = boxes[0]?.frame ?? app.fStart;
  const last = boxes[boxes.length - 1]?.frame ?? app.fStart - 1;
  return {
    id: app.id,
    asset: app.label,
    isFace: app.isFace,
    // endS is the end of the last frame that shows any of the face (frames last 1/fps).
    startS: first / spec.fps,
    endS: (last + 1) / spec.fps,
    boxes,
  };
}

export type Lane = 'any' | 'left' | 'right';

export interface Timing {
  start: number;
  walkIn: number;
  stay: number;
  walkOut: number;
}

/** Overrides for movement that is not a countable face (residential distractors). */
export interface AppearanceOpts {
  /** Overlay height as a share of the frame height (instead of sizing by the face). */
  overlayFrac?: number;
  /** Face centre height as a share of the frame height (instead of 25..60 %). */
  faceCyFrac?: number;
  label?: string;
  isFace?: boolean;
  blur?: number;
}

export function planAppearance(
  rng: Rng,
  spec: SceneSpec,
  id: string,
  asset: SceneAsset,
  lane: Lane,
  faceFrac: number,
  t: Timing,
  opts: AppearanceOpts = {},
): PlannedAppearance {
  const W = spec.width;
  const H = spec.height;
  const M = 2; // pixels kept clear of the frame edge while staying (absorbs overlay rounding)
  // Size: the face is faceFrac of the frame height; the lane must still fit the whole overlay.
  const laneW = lane === 'any' ? W : W / 2;
  // The cat only fools UltraFace when close to the lens (its head over ~75 % of the frame height),
  // so the hard negative is shown that large; faces get faceFrac of the frame height.
  let scale =
    opts.overlayFrac !== undefined
      ? (opts.overlayFrac * H) / asset.crop.h
      : asset.isFace
        ? (faceFrac * H) / asset.face.h
        : (uniform(rng, 0.78, 0.9) * H) / asset.crop.h;
  scale = Math.min(scale, (laneW - 2 * M - 2) / asset.crop.w, (H - 2 * M - 2) / asset.crop.h);
  const w = even(asset.crop.w * scale);
  const h = even(asset.crop.h * scale);
  const sx = w / asset.crop.w;
  const sy = h / asset.crop.h;
  const flip = rng() < 0.5;
  const fx = flip ? asset.crop.w - asset.face.x - asset.face.w : asset.face.x;
  const face = { x: fx * sx, y: asset.face.y * sy, w: asset.face.w * sx, h: asset.face.h * sy };

  // Where they stand: x anywhere in the lane, the face centre at 25..60 % of the frame height.
  const xLo = lane === 'right' ? W / 2 + M : M;
  const xHi = (lane === 'left' ? W / 2 : W) - w - M;
  const xs = uniform(rng, xLo, Math.max(xLo, xHi));
  const faceCy = (opts.faceCyFrac ?? uniform(rng, 0.25, 0.6)) * H;
  const clampY = (y: number): number => Math.min(Math.max(y, M), H - h - M);
  const ys = clampY(faceCy - face.y - face.h / 2);
  // People shuffle a little while they wait.
  const xs2 = Math.min(Math.max(xs + uniform(rng, -0.04, 0.04) * W, xLo), Math.max(xLo, xHi));
  const ys2 = clampY(ys + uniform(rng, -0.02, 0.02) * H);

  const offLeft = -w - 4;
  const offRight = W + 4;
  const enterLeft = lane === 'left' || (lane === 'any' && rng() < 0.5);
  const exitLeft = lane === 'left' || (lane === 'any' && rng() < 0.5);
  const xIn = enterLeft ? offLeft : offRight;
  const xOut = exitLeft ? offLeft : offRight;

  const fps = spec.fps;
  const f0 = Math.round(t.start * fps);
  const f1 = f0 + Math.max(1, Math.round(t.walkIn * fps));
  const f2 = f1 + Math.max(1, Math.round(t.stay * fps));
  const f3 = f2 + Math.max(1, Math.round(t.walkOut * fps));
  const seg = (fa: number, fb: number, xa: number, xb: number, ya: number, yb: number): Segment => ({
    f0: fa,
    x0: q4(xa),
    kx: q4((xb - xa) / (fb - fa)),
    y0: q4(ya),
    ky: q4((yb - ya) / (fb - fa)),
  });
  return {
    id,
    asset,
    label: opts.label ?? asset.name,
    isFace: opts.isFace ?? asset.isFace,
    blur: opts.blur ?? 0,
    w,
    h,
    face,
    flip,
    brightness: q4(uniform(rng, -0.18, 0.1)),
    contrast: q4(uniform(rng, 0.85, 1.15)),
    fStart: f0,
    fEnd: f3,
    segments: [seg(f0, f1, xIn, xs, ys, ys), seg(f1, f2, xs, xs2, ys, ys2), seg(f2, f3, xs2, xOut, ys2, ys2)],
  };
}

/** Face height as a fraction of the frame height: mostly 12..30 %, sometimes up to 45 %. */
export function faceFraction(rng: Rng, max: number): number {
  return 0.12 + (max - 0.12) * rng() ** 1.6;
}
