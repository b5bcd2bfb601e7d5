// Which pooled decoder takes a camera's unit: the least loaded one, or the one the camera used
// last unless it is clearly busier (its scaler is set up for the camera's resolution). A camera
// whose units keep timing out ("suspect") is decoded apart, on the strict quarantine decoder.
import type { Decoder } from './decoder-state.ts';

const STRIKE_WINDOW_MS = 60_000;
const STRIKES_KEPT = 8;
/** Timeouts within the window that make a camera a suspect, decoded apart from the others. */
const SUSPECT_STRIKES = 2;

export interface Strikes {
  /** A timeout (or desync) blamed on a camera. */
  strike(cameraId: string): void;
  suspect(cameraId: string): boolean;
  /** Whether any camera is a suspect now (the quarantine decoder is still needed). */
  any(): boolean;
}

/** Timeouts per camera in the last minute (at most STRIKES_KEPT kept per camera). */
export function createStrikes(now: () => number = Date.now): Strikes {
  const strikes = new Map<string, number[]>();
  const suspect = (cameraId: string): boolean => {
    const l = strikes.get(cameraId);
    if (!l) return false;
    const t = now();
    const recent = l.filter((x) => t - x < STRIKE_WINDOW_MS).length;
    if (recent === 0) strikes.delete(cameraId);
    return recent >= SUSPECT_STRIKES;
  };
  return {
    strike(cameraId) {
      const t = now();
      const l = (strikes.get(cameraId) ?? []).filter((x) => t - x < STRIKE_WINDOW_MS);
      l.push(t);
      strikes.set(cameraId, l.slice(-STRIKES_KEPT));
    },
    suspect,
    any: () => [...strikes.keys()].some(suspect),
  };
}

/** The least loaded decoder; the camera's previous one unless that is busier by more than two. */
export function leastLoaded(
  decoders: readonly Decoder[],
  prev: Decoder | undefined,
  maxQueue: number,
): Decoder | undefined {
  let best: Decoder | undefined;
  let bestLoad = Infinity;
  for (const d of decoders) {
    if (d.removed) continue;
    // A decoder without a process (restarting) counts as full.
    const load = d.queue.length + (d.inFlight ? 1 : 0) + (d.proc ? 0 : maxQueue);
    if (load < bestLoad) {
      best = d;
      bestLoad = load;
    }
  }
  if (prev && !prev.removed && prev.proc) {
    const load = prev.queue.length + (prev.inFlight ? 1 : 0);
    if (load <= bestLoad + 2) best = prev;
  }
  return best;
}
