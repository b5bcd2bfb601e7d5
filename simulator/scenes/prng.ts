// A tiny seeded PRNG (mulberry32): the schedule must be reproducible from spec.seed alone,
// and Math.random is not seedable.

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes the spec seed and a clip index into one 32-bit seed (so clips are independent). */
export function mixSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const v = items[Math.floor(rng() * items.length)];
  if (v === undefined) throw new Error('pick from an empty list');
  return v;
}

/**
 * Event times of a Poisson process with `perHour` events an hour over [fromS, toS), sorted; when it
 * gives fewer than `atLeast`, uniform times make up the difference (short clips still show some).
 */
export function poissonTimes(rng: Rng, perHour: number, fromS: number, toS: number, atLeast = 0): number[] {
  const out: number[] = [];
  if (!(toS > fromS)) return out;
  const rate = perHour / 3600;
  // Exponential gaps between events (inverse transform sampling).
  const gap = (): number => -Math.log(1 - rng()) / rate;
  if (rate > 0) for (let t = fromS + gap(); t < toS; t += gap()) out.push(t);
  while (out.length < atLeast) out.push(uniform(rng, fromS, toS));
  return out.sort((a, b) => a - b);
}
