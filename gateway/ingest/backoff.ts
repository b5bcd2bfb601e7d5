// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
// restarts of many cameras after a shared outage spread out instead of retrying in lockstep.

export interface BackoffOptions {
  /** First retry waits up to this long. */
  baseMs: number;
  /** Cap of the exponential part. */
  maxMs: number;
  /** Wrong credentials: the wait never drops below this (do not hammer a camera's auth). */
  unauthorizedMinMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1000, maxMs: 30_000, unauthorizedMinMs: 60_000 };

/** Delay before retry number `attempt` (0-based); `floorMs` is added under the jitter. */
export function backoffDelay(
  attempt: number,
  o: { baseMs: number; maxMs: number },
  floorMs = 0,
  rand: () => number = Math.random,
): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(floorMs + rand() * exp);
}
