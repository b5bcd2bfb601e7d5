// Face events against ground truth: recall, precision and latency of start events.
import type { Fleet } from '../simulator/fleet.ts';

export interface SeenStart {
  cameraId: string;
  /** Capture time the event carries (ms since the epoch). */
  ts: number;
  /** When the bench saw it (ms since the epoch). */
  arrivedAt: number;
}

export interface Score {
  appearances: number;
  found: number;
  starts: number;
  trueStarts: number;
  /** False starts that fell on movement without a face (door, pet, back of a head, a cat, a face
   * too small or blurred): the share of the precision loss that the distractors caused. */
  distractorStarts: number;
  /** Start events beyond the first for one appearance (an appearance ended and started again). */
  duplicateStarts: number;
  recall: number;
  precision: number;
  latencyMsP50: number;
  latencyMsP95: number;
}

export const MIN_APPEARANCE_MS = 1500;
export const EARLY_MS = 500;
export const LATE_MS = 2500;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? 0;
}

/**
 * A true appearance is an isFace interval fully inside [fromMs, toMs) and at least 1.5 s long; it is
 * found when its camera has a start event within [startMs - 500, endMs + 2500]. Precision counts
 * start events captured inside the window that fall in some isFace interval of their camera (same
 * tolerance); a start on an isFace: false appearance only (a distractor) is a false start, and is
 * counted apart as well. Latency: truth startMs to the arrival of the first matching start event.
 */
export function scoreEvents(
  fleet: Fleet,
  cameras: readonly string[],
  starts: readonly SeenStart[],
  fromMs: number,
  toMs: number,
): Score {
  const byCam = new Map<string, SeenStart[]>();
  for (const s of starts) {
    const list = byCam.get(s.cameraId);
    if (list) list.push(s);
    else byCam.set(s.cameraId, [s]);
  }
  let appearances = 0;
  let found = 0;
  let duplicateStarts = 0;
  const latencies: number[] = [];
  for (const cam of cameras) {
    const evs = byCam.get(cam) ?? [];
    for (const iv of fleet.truth(cam, fromMs, toMs)) {
      if (!iv.isFace || iv.startMs < fromMs || iv.endMs > toMs || iv.endMs - iv.startMs < MIN_APPEARANCE_MS)
        continue;
      appearances++;
      const hits = evs.filter((e) => e.ts >= iv.startMs - EARLY_MS && e.ts <= iv.endMs + LATE_MS);
      if (hits.length === 0) continue;
      found++;
      duplicateStarts += hits.length - 1;
      latencies.push(Math.min(...hits.map((h) => h.arrivedAt)) - iv.startMs);
    }
  }
  const inWindow = starts.filter((s) => s.ts >= fromMs && s.ts < toMs && cameras.includes(s.cameraId));
  let trueStarts = 0;
  let distractorStarts = 0;
  for (const s of inWindow) {
    const truth = fleet.truth(s.cameraId, s.ts - 120_000, s.ts + EARLY_MS + 1);
    const near = truth.filter((iv) => s.ts >= iv.startMs - EARLY_MS && s.ts <= iv.endMs + LATE_MS);
    if (near.some((iv) => iv.isFace)) trueStarts++;
    else if (near.length > 0) distractorStarts++;
  }
  latencies.sort((a, b) => a - b);
  return {
    appearances,
    found,
    starts: inWindow.length,
    trueStarts,
    distractorStarts,
    duplicateStarts,
    recall: appearances > 0 ? found / appearances : 0,
    precision: inWindow.length > 0 ? trueStarts / inWindow.length : 0,
    latencyMsP50: quantile(latencies, 0.5),
    latencyMsP95: quantile(latencies, 0.95),
  };
}
