// Which detection continues which open track (pure geometry, split from the tracker): IoU, or a
// short jump of a similar box, best pair first; and whether a face was last seen walking out.
import { iou, type Box, type Detection } from './detect/ultraface.ts';

/** What matching needs of a track. */
export interface Matchable {
  box: Box;
  /** The box before the last one: which way the face moves. */
  prev?: Box;
  lastSeen: number;
}

export interface MatchOptions {
  /** IoU at which a detection continues a track. */
  matchIou: number;
  /** A short jump (in face sizes) of a similar box continues a track without overlap. */
  maxJump: number;
}

/** How close to the frame's edge (normalised) a box must be to count as crossing it. */
const EDGE = 0.02;

/** Last seen touching an edge and moving towards it: the person walked out of the picture. */
export function leaving(t: { box: Box; prev?: Box }): boolean {
  const p = t.prev;
  if (!p) return false;
  const [x, y, w, h] = t.box;
  const dx = x + w / 2 - (p[0] + p[2] / 2);
  const dy = y + h / 2 - (p[1] + p[3] / 2);
  return (
    (x <= EDGE && dx < 0) ||
    (x + w >= 1 - EDGE && dx > 0) ||
    (y <= EDGE && dy < 0) ||
    (y + h >= 1 - EDGE && dy > 0)
  );
}

/** Longest gap over which a lone face continues a lone track regardless of where it moved. */
const CONTINUITY_MS = 1500;

/** Match score: IoU when it is enough, else a smaller positive score for a short jump of a similar box. */
function affinity(a: Box, b: Box, w: number, h: number, o: MatchOptions): number {
  const overlap = iou(a, b);
  if (overlap >= o.matchIou) return overlap;
  const size = Math.max(a[2] * w, a[3] * h, b[2] * w, b[3] * h);
  const ratio = (b[2] * b[3]) / Math.max(1e-9, a[2] * a[3]);
  if (size <= 0 || ratio > 4 || ratio < 0.25) return 0;
  const dx = (a[0] + a[2] / 2 - b[0] - b[2] / 2) * w;
  const dy = (a[1] + a[3] / 2 - b[1] - b[3] / 2) * h;
  const jump = Math.hypot(dx, dy) / size;
  return jump <= o.maxJump ? o.matchIou * 0.99 * (1 - jump / (o.maxJump * 1.01)) : 0;
}

/**
 * Greedy assignment, best pair first: each track and each detection used at most once. Returns
 * the pairs in that order; `d` is the detection's index.
 */
export function assign<T extends Matchable>(
  tracks: readonly T[],
  detections: readonly Detection[],
  frame: { width: number; height: number; ts: number },
  o: MatchOptions,
): { t: T; det: Detection; d: number }[] {
  const pairs: { t: T; d: number; s: number }[] = [];
  for (const t of tracks) {
    detections.forEach((det, d) => {
      const s = affinity(t.box, det.box, frame.width, frame.height, o);
      if (s > 0) pairs.push({ t, d, s });
    });
  }
  // One face in the previous analysed frame, one face now, nothing else on the camera: at one
  // analysed frame a second a person walking in crosses much of the frame between keyframes, so
  // geometry alone would split them into two events. Only across one frame gap (~1 s), since a
  // different person may follow after a longer one.
  const only = tracks[0];
  if (
    pairs.length === 0 &&
    only &&
    tracks.length === 1 &&
    detections.length === 1 &&
    frame.ts - only.lastSeen <= CONTINUITY_MS
  ) {
    pairs.push({ t: only, d: 0, s: 0.001 });
  }
  pairs.sort((a, b) => b.s - a.s);
  const usedTracks = new Set<T>();
  const usedDets = new Set<number>();
  const chosen: { t: T; det: Detection; d: number }[] = [];
  for (const p of pairs) {
    if (usedTracks.has(p.t) || usedDets.has(p.d)) continue;
    const det = detections[p.d];
    if (!det) continue;
    usedTracks.add(p.t);
    usedDets.add(p.d);
    chosen.push({ t: p.t, det, d: p.d });
  }
  return chosen;
}
