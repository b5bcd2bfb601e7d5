// The seeded plan of a clip: background, door, and who walks where when. The same path formula
// drives both the ffmpeg overlay expressions (filtergraph.ts) and the ground-truth boxes here.
import type { Appearance, Box, SceneProfile, SceneSpec, VideoCodec } from './types.ts';
import { BACKGROUNDS, FACE_ASSETS, SCENE_ASSETS, type BackgroundName, type SceneAsset } from './assets.ts';
import { mixSeed, mulberry32, pick, uniform, type Rng } from './prng.ts';
import { clipKind, fullSpec } from './mix.ts';
import { planLights, type LightPlan } from './lights.ts';
import { planResidential, type DoorEvent } from './residential.ts';

/** Frame counts derived from a spec. */
export interface ClipTiming {
  gopFrames: number;
  frames: number;
  durationS: number;
}

/** Frame counts of the clips of a profile (residential clips have their own length). */
export function clipTiming(spec: SceneSpec, profile: SceneProfile = 'busy'): ClipTiming {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`invalid scene spec: ${what}`);
  };
  check(
    Number.isInteger(spec.width) && spec.width >= 64 && spec.width % 2 === 0,
    'width must be an even integer >= 64',
  );
  check(
    Number.isInteger(spec.height) && spec.height >= 64 && spec.height % 2 === 0,
    'height must be an even integer >= 64',
  );
  check(spec.fps > 0 && spec.fps <= 120, 'fps must be in (0, 120]');
  check(spec.keyframeIntervalS > 0, 'keyframeIntervalS must be > 0');
  check(spec.seconds > 0, 'seconds must be > 0');
  check(Number.isInteger(spec.count) && spec.count >= 1, 'count must be an integer >= 1');
  check(Number.isInteger(spec.seed), 'seed must be an integer');
  const full = fullSpec(spec);
  check(full.residentialSeconds > 0, 'residentialSeconds must be > 0');
  check(full.passagesPerHour >= 0, 'passagesPerHour must be >= 0');
  check(full.noise >= 0 && full.noise <= 100, 'noise must be in [0, 100]');
  check(full.residentialShare >= 0 && full.residentialShare <= 1, 'residentialShare must be in [0, 1]');
  check(full.h265Share >= 0 && full.h265Share <= 1, 'h265Share must be in [0, 1]');
  const seconds = profile === 'residential' ? full.residentialSeconds : spec.seconds;
  const gopFrames = Math.max(1, Math.round(spec.keyframeIntervalS * spec.fps));
  const frames = Math.ceil(Math.round(seconds * spec.fps) / gopFrames) * gopFrames;
  return { gopFrames, frames, durationS: frames / spec.fps };
}

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

export interface ClipPlan {
  index: number;
  profile: SceneProfile;
  codec: VideoCodec;
  flavor: 'solo' | 'pairs' | 'sparse' | 'negative' | 'residential';
  background: BackgroundName;
  /** RGB multipliers for the grey texture. */
  tint: [number, number, number];
  bgBrightness: number;
  door: { x: number; y: number; w: number; h: number };
  floorY: number;
  appearances: PlannedAppearance[];
  /** The door opening and closing (residential); its leaf slides aside. */
  doors: DoorEvent[];
  lights: LightPlan;
}

const q4 = (v: number): number => Math.round(v * 1e4) / 1e4;
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

const FLAVORS: ClipPlan['flavor'][] = ['solo', 'pairs', 'sparse', 'negative'];

export interface Scenery {
  background: BackgroundName;
  /** RGB multipliers for the grey texture. */
  tint: [number, number, number];
  door: { x: number; y: number; w: number; h: number };
  floorY: number;
}

/** The static part of a clip: wall, tint, door and floor. */
export function planScenery(rng: Rng, spec: SceneSpec): Scenery {
  const W = spec.width;
  const H = spec.height;
  const background = pick(rng, BACKGROUNDS);
  const tint = pick(rng, [
    [1.0, 0.92, 0.82],
    [0.85, 0.9, 1.0],
    [1.0, 1.0, 1.0],
    [0.9, 1.0, 0.88],
    [1.0, 0.85, 0.8],
  ] as [number, number, number][]);
  const doorW = Math.round(uniform(rng, 0.22, 0.32) * W);
  const floorY = Math.round(uniform(rng, 0.86, 0.94) * H);
  const doorH = Math.round(uniform(rng, 0.72, 0.82) * H);
  const door = {
    x: Math.round(uniform(rng, 0.15, 0.85) * W - doorW / 2),
    y: floorY - doorH,
    w: doorW,
    h: doorH,
  };
  return { background, tint, door, floorY };
}

/** The plan of clip `index`; pure and deterministic in (spec, index). */
export function planClip(spec: SceneSpec, index: number): ClipPlan {
  const kind = clipKind(spec, index);
  const { durationS } = clipTiming(spec, kind.profile);
  const rng = mulberry32(mixSeed(spec.seed, index));
  const scenery = planScenery(rng, spec);
  // Lights draw from their own stream, so switching them on or off leaves the people as they are.
  const lights = planLights(mulberry32(mixSeed(spec.seed ^ 0x5eed, index)), spec, kind.profile, durationS);
  if (kind.profile === 'residential') {
    const bgBrightness = q4(uniform(rng, -0.12, 0.05));
    const r = planResidential(rng, spec, index, scenery, durationS);
    return { index, ...kind, flavor: 'residential', ...scenery, bgBrightness, ...r, lights };
  }
  const flavor = FLAVORS[index % FLAVORS.length] ?? 'solo';
  const appearances = planBusy(rng, spec, index, flavor, durationS);
  return {
    index,
    ...kind,
    flavor,
    ...scenery,
    bgBrightness: q4(uniform(rng, -0.12, 0.05)),
    appearances,
    doors: [],
    lights,
  };
}

/** Today's busy door: someone every few seconds (solos, pairs, sparse, or with a cat). */
function planBusy(
  rng: Rng,
  spec: SceneSpec,
  index: number,
  flavor: ClipPlan['flavor'],
  durationS: number,
): PlannedAppearance[] {
  const appearances: PlannedAppearance[] = [];
  const endMargin = 0.3;
  let cursor = flavor === 'sparse' ? uniform(rng, 4, 12) : uniform(rng, 0.3, 2.5);
  let k = 0;
  const nextId = (): string => `c${index}-a${k++}`;
  const chooseAsset = (): SceneAsset =>
    flavor === 'negative' && (appearances.length === 0 || rng() < 0.35)
      ? SCENE_ASSETS.chelsea
      : pick(rng, FACE_ASSETS);
  // Fits walk-in, a 3..8 s stay and walk-out into what is left of the clip, or gives up.
  const timing = (start: number): Timing | undefined => {
    const walkIn = uniform(rng, 0.8, 1.8);
    const walkOut = uniform(rng, 0.8, 1.8);
    const room = durationS - endMargin - start - walkIn - walkOut;
    const stay = Math.min(uniform(rng, 3, 8), room);
    return stay >= 3 ? { start, walkIn, stay, walkOut } : undefined;
  };
  for (;;) {
    const t = timing(cursor);
    if (!t) break;
    let end = t.start + t.walkIn + t.stay + t.walkOut;
    if (flavor === 'pairs' && rng() < 0.75) {
      // Two people at once, each in their own half, so they never occlude each other.
      const leftFirst = rng() < 0.5;
      appearances.push(
        planAppearance(
          rng,
          spec,
          nextId(),
          chooseAsset(),
          leftFirst ? 'left' : 'right',
          faceFraction(rng, 0.3),
          t,
        ),
      );
      const t2 = timing(cursor + uniform(rng, 0, 1.5));
      if (t2) {
        appearances.push(
          planAppearance(
            rng,
            spec,
            nextId(),
            chooseAsset(),
            leftFirst ? 'right' : 'left',
            faceFraction(rng, 0.3),
            t2,
          ),
        );
        end = Math.max(end, t2.start + t2.walkIn + t2.stay + t2.walkOut);
      }
    } else {
      appearances.push(planAppearance(rng, spec, nextId(), chooseAsset(), 'any', faceFraction(rng, 0.45), t));
    }
    cursor = end + (flavor === 'sparse' ? uniform(rng, 6, 18) : uniform(rng, 0.5, 3));
  }
  return appearances;
}
