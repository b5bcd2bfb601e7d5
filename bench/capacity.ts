// Capacity search: the largest camera count at which a side still meets its criteria. Doubling
// from `min` until a count fails (or `max` passes), then bisection between the last pass and the
// first fail until the gap is within the resolution. The number of points is bounded, and the
// bound is known before the search starts (worstCasePoints), so the wall time can be printed up front.

export interface SearchOptions {
  min: number;
  max: number;
  /** Stop bisecting when hi - lo <= max(resolution, relative * lo). */
  resolution: number;
  relative: number;
}

export interface SearchPoint<T> {
  cameras: number;
  pass: boolean;
  value: T;
}

export interface SearchResult<T> {
  /** Largest count that passed (0: none). */
  cameras: number;
  /** The largest count tried (max) passed: the capacity is at least max. */
  hitMax: boolean;
  points: SearchPoint<T>[];
}

const gap = (o: SearchOptions, lo: number): number => Math.max(1, o.resolution, Math.floor(o.relative * lo));

export async function searchCapacity<T>(
  measure: (cameras: number) => Promise<{ pass: boolean; value: T }>,
  o: SearchOptions,
): Promise<SearchResult<T>> {
  if (!(o.min >= 1 && o.max >= o.min))
    throw new Error(`capacity search needs 1 <= min <= max (${o.min}, ${o.max})`);
  const points: SearchPoint<T>[] = [];
  const at = async (n: number): Promise<boolean> => {
    const r = await measure(n);
    points.push({ cameras: n, pass: r.pass, value: r.value });
    return r.pass;
  };
  let lo = 0;
  let hi: number | undefined;
  // Doubling.
  for (let n = o.min; ; n = Math.min(o.max, n * 2)) {
    if (await at(n)) {
      lo = n;
      if (n >= o.max) return { cameras: lo, hitMax: true, points };
    } else {
      hi = n;
      break;
    }
  }
  // Bisection between the last pass (or 0) and the first fail.
  while (hi - lo > gap(o, lo)) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid <= lo || mid >= hi) break;
    if (await at(mid)) lo = mid;
    else hi = mid;
  }
  return { cameras: lo, hitMax: false, points };
}

/** The most points a search with these bounds can take, whatever the outcomes (exact up to max 2000: every capacity tried). */
export async function worstCasePoints(o: SearchOptions): Promise<number> {
  let worst = 0;
  const caps = new Set<number>([0, o.max]);
  // The outcome only depends on where the capacity falls among the counts tried; sample densely.
  const step = Math.max(1, Math.floor(o.max / 2000));
  for (let c = 0; c <= o.max; c += step) caps.add(c);
  for (const cap of caps) {
    const r = await searchCapacity(async (n) => ({ pass: n <= cap, value: 0 }), o);
    worst = Math.max(worst, r.points.length);
  }
  return worst;
}
