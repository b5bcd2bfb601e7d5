// The simulated fleet: camera ids with city metadata, each bound to a clip at its own phase.
// Everything derives from (seed, index), so a camera keeps its identity when the count changes.
import type { SceneClip } from './scenes/types.ts';
import { intervals, type TruthInterval } from './scenes/truth.ts';

export interface CameraInfo {
  id: string;
  district: string;
  building: number;
  entrance: number;
  clip: number;
  phaseS: number;
}

const DISTRICTS = [
  'arbat',
  'basmanny',
  'khamovniki',
  'meshchansky',
  'presnensky',
  'tagansky',
  'tverskoy',
  'yakimanka',
  'zamoskvorechye',
  'lefortovo',
  'sokolniki',
  'ostankino',
  'khoroshyovo',
  'dorogomilovo',
  'danilovsky',
  'maryino',
];

/** Camera ids are 6-digit numbers from 000001: paths /cam/000001. */
export function cameraId(index: number): string {
  return String(index + 1).padStart(6, '0');
}

export function cameraIndex(id: string): number | undefined {
  if (!/^\d{6,}$/.test(id)) return undefined;
  const n = Number(id) - 1;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A small stable hash (FNV-1a then a murmur finaliser) to unit interval. */
function unit(seed: number, index: number, salt: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const v of [index, salt, index >>> 16]) {
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
    h = Math.imul(h ^ (v >>> 16), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

export interface Fleet {
  /** Cameras in the whole city (every shard's). */
  count(): number;
  setCount(n: number): void;
  /** Which camera indexes this process serves (a shard); all by default. */
  setOwns(owns: (index: number) => boolean): void;
  /** A camera this process serves. */
  get(id: string): CameraInfo | undefined;
  /** The cameras this process serves, by index. */
  list(): CameraInfo[];
  /** Ground truth: the appearances camera `id` shows during wall-clock [fromMs, toMs), whole (not clipped). */
  truth(id: string, fromMs: number, toMs: number): (TruthInterval & { startMs: number; endMs: number })[];
}

export function createFleet(opts: {
  count: number;
  seed: number;
  clips: readonly SceneClip[];
  maxCount?: number;
  owns?: (index: number) => boolean;
}): Fleet {
  let count = opts.count;
  let owns = opts.owns ?? ((_: number): boolean => true);
  const max = opts.maxCount ?? 100_000;
  const info = (index: number): CameraInfo => {
    const clipCount = opts.clips.length;
    const clip = Math.floor(unit(opts.seed, index, 1) * clipCount);
    const duration = opts.clips[clip]?.durationS ?? 1;
    // Phases on whole tenths of a second keep frames aligned to the scheduler's grid.
    const phaseS = Math.floor(unit(opts.seed, index, 2) * duration * 10) / 10;
    const district = DISTRICTS[Math.floor(unit(opts.seed, index, 3) * DISTRICTS.length)] ?? 'center';
    return {
      id: cameraId(index),
      district,
      building: 1 + Math.floor(unit(opts.seed, index, 4) * 200),
      entrance: 1 + Math.floor(unit(opts.seed, index, 5) * 6),
      clip,
      phaseS,
    };
  };
  return {
    count: () => count,
    setCount(n) {
      if (!Number.isInteger(n) || n < 1 || n > max)
        throw new RangeError(`camera count must be an integer from 1 to ${max}`);
      count = n;
    },
    setOwns(fn) {
      owns = fn;
    },
    get(id) {
      const i = cameraIndex(id);
      return i !== undefined && i < count && owns(i) ? info(i) : undefined;
    },
    list() {
      const out: CameraInfo[] = [];
      for (let i = 0; i < count; i++) if (owns(i)) out.push(info(i));
      return out;
    },
    truth(id, fromMs, toMs) {
      const cam = this.get(id);
      const clip = cam && opts.clips[cam.clip];
      if (!cam || !clip) return [];
      // The RTSP server shows clip time (t + phaseS) mod duration at camera time t = wall clock s.
      // Whole appearances, not clipped to the window: one that began before fromMs keeps its start.
      const D = clip.durationS;
      const byId = new Map(clip.appearances.map((a) => [a.id, a]));
      return intervals(clip, fromMs / 1000, toMs / 1000, cam.phaseS).map((iv) => {
        const a = byId.get(iv.id);
        const start = a ? a.startS - cam.phaseS + iv.loop * D : iv.startS;
        const end = a ? a.endS - cam.phaseS + iv.loop * D : iv.endS;
        return {
          ...iv,
          startS: start,
          endS: end,
          startMs: Math.round(start * 1000),
          endMs: Math.round(end * 1000),
        };
      });
    },
  };
}
