// The seeded plan of a clip: background, door, and who walks where when. The same path formula
// drives both the ffmpeg overlay expressions (filtergraph.ts) and the ground-truth boxes
// (appearance.ts, one person's walk and its truth; its names are exported from here too).
import type { SceneProfile, SceneSpec, VideoCodec } from './types.ts';
import { BACKGROUNDS, FACE_ASSETS, SCENE_ASSETS, type BackgroundName, type SceneAsset } from './assets.ts';
import { mixSeed, mulberry32, pick, uniform, type Rng } from './prng.ts';
import { faceFraction, planAppearance, q4, type PlannedAppearance, type Timing } from './appearance.ts';
import { clipKind, fullSpec } from './mix.ts';
import { planLights, type LightPlan } from './lights.ts';
import { planResidential, type DoorEvent } from './residential.ts';

export {
  type AppearanceOpts,
  appearanceTruth,
  faceBoxPx,
  faceFraction,
  type Lane,
  overlayPosition,
  planAppearance,
  type PlannedAppearance,
  type Segment,
  type Timing,
} from './appearance.ts';

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
