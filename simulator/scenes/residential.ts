// A residential entrance: a few people an hour, arriving as a seeded Poisson process (sometimes in
// pairs), each walking in, stopping at the door and walking out; and movement without a countable
// face: the door opening with nobody seen, a pet, the back of a head, a face too small or too blurred.
import type { Appearance, SceneSpec } from './types.ts';
import { BACK_ASSET, FACE_ASSETS, SCENE_ASSETS, type SceneAsset } from './assets.ts';
import { fullSpec } from './mix.ts';
import { pick, poissonTimes, uniform, type Rng } from './prng.ts';
import {
  faceFraction,
  planAppearance,
  type AppearanceOpts,
  type Lane,
  type PlannedAppearance,
  type Timing,
} from './appearance.ts';
import type { Scenery } from './schedule.ts';

/** The door slides open over [fStart, fOpen], stays open, and closes over [fClose, fEnd]. */
export interface DoorEvent {
  id: string;
  fStart: number;
  fOpen: number;
  fClose: number;
  fEnd: number;
}

/** Share of arrivals that are two people together. */
export const PAIR_SHARE = 0.2;
/** Mean seconds a resident's face is in view (walk in, unlock the door, walk out): sets occupancy. */
export const RESIDENT_DWELL_S = 7.8;
/** Movement without a face, per hour at one entrance (each residential clip shows at least one). */
const DISTRACTORS_PER_HOUR = 24;
const DISTRACTOR_KINDS = ['door', 'pet', 'back', 'small-face', 'blurred-face'] as const;
const END_MARGIN_S = 0.3;

/** Expected face occupancy (face-seconds per second of video) for a passage rate. */
export function residentialOccupancy(passagesPerHour: number): number {
  return (passagesPerHour * RESIDENT_DWELL_S) / 3600;
}

function residentTiming(rng: Rng, start: number): Timing {
  // Walks are partly off-screen: the face is in view ~80 % of them, so the stay makes up the dwell.
  return { start, walkIn: uniform(rng, 0.8, 1.8), stay: uniform(rng, 3, 8), walkOut: uniform(rng, 0.8, 1.8) };
}

const endOf = (t: Timing): number => t.start + t.walkIn + t.stay + t.walkOut;

export function planResidential(
  rng: Rng,
  spec: SceneSpec,
  index: number,
  scenery: Scenery,
  durationS: number,
): { appearances: PlannedAppearance[]; doors: DoorEvent[] } {
  const full = fullSpec(spec);
  const appearances: PlannedAppearance[] = [];
  const busy: { lane: 'left' | 'right'; from: number; to: number }[] = [];
  let k = 0;
  const nextId = (): string => `c${index}-a${k++}`;
  const laneFree = (lane: 'left' | 'right', from: number, to: number): boolean =>
    !busy.some((b) => b.lane === lane && b.from < to + 0.5 && from < b.to + 0.5);
  /** A free lane for t; when both are taken, the person waits until one frees (mutating t.start). */
  const place = (t: Timing, prefer: 'left' | 'right'): 'left' | 'right' | undefined => {
    const other = prefer === 'left' ? 'right' : 'left';
    let lane: 'left' | 'right' | undefined;
    for (let tries = 0; tries < 4 && !lane; tries++) {
      if (endOf(t) > durationS - END_MARGIN_S) return undefined;
      lane = laneFree(prefer, t.start, endOf(t))
        ? prefer
        : laneFree(other, t.start, endOf(t))
          ? other
          : undefined;
      if (!lane) {
        const blocking = busy.filter((b) => b.from < endOf(t) + 0.5 && t.start < b.to + 0.5);
        t.start = Math.min(...blocking.map((b) => b.to)) + 0.6;
      }
    }
    if (lane) busy.push({ lane, from: t.start, to: endOf(t) });
    return lane;
  };
  const person = (t: Timing, lane: Lane): void => {
    appearances.push(
      planAppearance(rng, spec, nextId(), pick(rng, FACE_ASSETS), lane, faceFraction(rng, 0.35), t),
    );
  };

  // Groups arrive at passagesPerHour / (1 + PAIR_SHARE) an hour over the part of the clip where a
  // whole passage fits; the rate is scaled up by the part cut off, so passages per hour hold.
  const usable = Math.max(0, durationS - END_MARGIN_S - 12);
  const groupsPerHour = (full.passagesPerHour / (1 + PAIR_SHARE)) * (usable > 0 ? durationS / usable : 0);
  for (const at of poissonTimes(rng, groupsPerHour, 0.3, usable)) {
    const t = residentTiming(rng, at);
    const lane = place(t, rng() < 0.5 ? 'left' : 'right');
    if (!lane) continue;
    person(t, lane);
    if (rng() < PAIR_SHARE) {
      const t2 = residentTiming(rng, at + uniform(rng, 0.2, 1.5));
      const lane2 = place(t2, lane === 'left' ? 'right' : 'left');
      if (lane2 && lane2 !== lane) person(t2, lane2);
    }
  }
  const doors: DoorEvent[] = [];
  if (!full.distractors) return { appearances, doors };

  const times = poissonTimes(rng, DISTRACTORS_PER_HOUR, 0.5, Math.max(0.5, durationS - 12), 1);
  times.forEach((at, i) => {
    const kind = DISTRACTOR_KINDS[(index + i) % DISTRACTOR_KINDS.length] ?? 'door';
    const fps = spec.fps;
    if (kind === 'door') {
      const f0 = Math.round(at * fps);
      const f1 = f0 + Math.round(uniform(rng, 0.8, 1.4) * fps);
      const f2 = f1 + Math.round(uniform(rng, 2, 5) * fps);
      const f3 = f2 + Math.round(uniform(rng, 0.8, 1.4) * fps);
      if (f3 / fps < durationS - END_MARGIN_S)
        doors.push({ id: nextId(), fStart: f0, fOpen: f1, fClose: f2, fEnd: f3 });
      return;
    }
    // Overlays only where no resident is in view: they must never hide a face. A few other times
    // are tried before giving up, so a busy clip still gets its distractor.
    const fits = (x: Timing): boolean =>
      endOf(x) <= durationS - END_MARGIN_S &&
      laneFree('left', x.start, endOf(x)) &&
      laneFree('right', x.start, endOf(x));
    const walk = (start: number): Timing => ({
      start,
      walkIn: uniform(rng, 1, 2.5),
      stay: uniform(rng, 0.5, 3),
      walkOut: uniform(rng, 1, 2.5),
    });
    let t = walk(at);
    for (let tries = 0; !fits(t) && tries < 12; tries++)
      t = walk(uniform(rng, 0.5, Math.max(0.5, durationS - 10)));
    if (!fits(t)) return;
    busy.push({ lane: 'left', from: t.start, to: endOf(t) }, { lane: 'right', from: t.start, to: endOf(t) });
    appearances.push(distractor(rng, spec, nextId(), kind, t, scenery));
  });
  return { appearances, doors };
}

function distractor(
  rng: Rng,
  spec: SceneSpec,
  id: string,
  kind: Exclude<(typeof DISTRACTOR_KINDS)[number], 'door'>,
  t: Timing,
  scenery: Scenery,
): PlannedAppearance {
  const floor = scenery.floorY / spec.height;
  let asset: SceneAsset = pick(rng, FACE_ASSETS);
  let faceFrac = 0.2;
  const opts: AppearanceOpts = { label: kind, isFace: false };
  if (kind === 'pet') {
    // A cat crossing low, head well below the size at which UltraFace takes it for a face.
    asset = SCENE_ASSETS.chelsea;
    opts.overlayFrac = uniform(rng, 0.16, 0.24);
    opts.faceCyFrac = floor - 0.12;
  } else if (kind === 'back') {
    asset = BACK_ASSET;
    opts.overlayFrac = uniform(rng, 0.35, 0.5);
  } else if (kind === 'small-face') {
    // Far from the lens: about 3.5 % of the frame height, under UltraFace's smallest anchor.
    faceFrac = uniform(rng, 0.03, 0.04);
  } else {
    faceFrac = uniform(rng, 0.14, 0.22);
  }
  const app = planAppearance(rng, spec, id, asset, 'any', faceFrac, t, opts);
  // Out of focus: a blur of a fifth of the face's height leaves a blob, no eyes.
  if (kind === 'blurred-face') app.blur = Math.round(app.face.h * 0.2 * 100) / 100;
  return app;
}

/** Truth for a door event: the doorway, every frame the leaf moves or stands open. */
export function doorTruth(ev: DoorEvent, scenery: Scenery, spec: SceneSpec): Appearance {
  const r6 = (v: number): number => Math.round(v * 1e6) / 1e6;
  const d = scenery.door;
  const box = {
    x: r6(d.x / spec.width),
    y: r6(d.y / spec.height),
    w: r6(d.w / spec.width),
    h: r6(d.h / spec.height),
  };
  const boxes: Appearance['boxes'] = [];
  for (let f = ev.fStart; f <= ev.fEnd; f++) boxes.push({ frame: f, box });
  return {
    id: ev.id,
    asset: 'door',
    isFace: false,
    startS: ev.fStart / spec.fps,
    endS: (ev.fEnd + 1) / spec.fps,
    boxes,
  };
}
