// What each clip of a spec is: which kind of entrance (profile) and which codec. The fleet binds
// cameras to clips uniformly, so the shares of clips are the shares of cameras.
import type { SceneProfile, SceneSpec, VideoCodec } from './types.ts';

export type FullSceneSpec = Required<SceneSpec>;

export const SPEC_DEFAULTS = {
  residentialShare: 0,
  residentialSeconds: 300,
  passagesPerHour: 20,
  h265Share: 0,
  noise: 7,
  lights: true,
  distractors: true,
} as const satisfies Partial<SceneSpec>;

/** The spec with every optional field filled in: what plans, renders and the cache key use. */
export function fullSpec(spec: SceneSpec): FullSceneSpec {
  return { ...SPEC_DEFAULTS, ...dropUndefined(spec) };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Clips of a kind for a share: rounded, but a share strictly between 0 and 1 gets both kinds. */
export function shareCount(count: number, share: number): number {
  const n = Math.round(count * share);
  if (count < 2 || share <= 0 || share >= 1) return Math.min(count, Math.max(0, n));
  return Math.min(count - 1, Math.max(1, n));
}

export interface ClipKind {
  profile: SceneProfile;
  codec: VideoCodec;
}

/**
 * Residential clips come first; H.265 goes to odd indices first, then even ones, so with both
 * mixes every combination of profile and codec gets clips.
 */
export function clipKind(spec: SceneSpec, index: number): ClipKind {
  const s = fullSpec(spec);
  const profile: SceneProfile = index < shareCount(s.count, s.residentialShare) ? 'residential' : 'busy';
  const odd = Math.floor(s.count / 2);
  const rank = index % 2 === 1 ? (index - 1) / 2 : odd + index / 2;
  const codec: VideoCodec = rank < shareCount(s.count, s.h265Share) ? 'h265' : 'h264';
  return { profile, codec };
}

/**
 * What the busy profile shows, measured once over 800 planned clips (its schedule has no rate
 * parameter): passages an hour and face occupancy (face-seconds per second of video; two faces at
 * once count twice). The profile test holds the generator to these.
 */
export const BUSY_NOMINAL = { passagesPerHour: 318, occupancy: 0.68 } as const;
