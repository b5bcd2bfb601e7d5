// Ground-truth queries over a rendered clip: pure functions of the SceneClip.
import type { Appearance, Box, SceneClip } from './types.ts';

export interface VisibleAppearance {
  appearance: Appearance;
  box: Box;
}

/** An appearance as a camera shows it: camera-time interval, clipped to the asked window. */
export interface TruthInterval {
  id: string;
  asset: string;
  isFace: boolean;
  /** Which pass through the clip (0 = the one that starts at camera time -phaseS). */
  loop: number;
  startS: number;
  endS: number;
}

/** The frame shown at clip time tS, looping: frame k covers [k/fps, (k+1)/fps). */
export function frameAt(clip: SceneClip, tS: number): number {
  // The small epsilon keeps k/fps itself (computed in floating point) on frame k.
  const f = Math.floor(tS * clip.fps + 1e-6);
  return ((f % clip.frames) + clip.frames) % clip.frames;
}

/** Appearances visible at clip time tS (modulo the clip's duration) with their boxes then. */
export function appearancesAt(clip: SceneClip, tS: number): VisibleAppearance[] {
  const frame = frameAt(clip, tS);
  const out: VisibleAppearance[] = [];
  for (const a of clip.appearances) {
    const first = a.boxes[0]?.frame;
    if (first === undefined) continue;
    // Boxes are one per frame over a contiguous run; fall back to a search if not.
    const direct = a.boxes[frame - first];
    const hit = direct?.frame === frame ? direct : a.boxes.find((b) => b.frame === frame);
    if (hit) out.push({ appearance: a, box: hit.box });
  }
  return out;
}

/**
 * Appearances that a camera playing `clip` shows during camera time [fromS, toS), where the
 * camera shows clip time (t + phaseS) mod durationS at camera time t. Sorted by start.
 */
export function intervals(clip: SceneClip, fromS: number, toS: number, phaseS = 0): TruthInterval[] {
  const D = clip.durationS;
  const out: TruthInterval[] = [];
  if (!(toS > fromS) || !(D > 0)) return out;
  for (const a of clip.appearances) {
    // Camera-time start of pass k: a.startS - phaseS + k*D.
    const kFirst = Math.floor((fromS + phaseS - a.endS) / D);
    const kLast = Math.ceil((toS + phaseS - a.startS) / D);
    for (let k = kFirst; k <= kLast; k++) {
      const start = a.startS - phaseS + k * D;
      const end = a.endS - phaseS + k * D;
      if (end <= fromS || start >= toS) continue;
      out.push({
        id: a.id,
        asset: a.asset,
        isFace: a.isFace,
        loop: k,
        startS: Math.max(start, fromS),
        endS: Math.min(end, toS),
      });
    }
  }
  return out.sort((x, y) => x.startS - y.startS || x.id.localeCompare(y.id));
}
