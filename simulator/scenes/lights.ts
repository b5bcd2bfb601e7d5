// Light that changes without anyone in view: a slow exposure drift (every clip), and at
// residential entrances a hall light on a timer (switched off for a while) and passing shadows.
// The drift's period divides the clip, so the loop has no seam.
import type { LightEvent, SceneProfile, SceneSpec } from './types.ts';
import { fullSpec } from './mix.ts';
import { poissonTimes, uniform, type Rng } from './prng.ts';

export interface LightPlan {
  /** eq brightness offset: amplitude * sin(2 pi t / periodS + phase). */
  drift: { amplitude: number; periodS: number; phase: number };
  /** Intervals with the hall light off (darker by `offBrightness`). */
  off: { startS: number; endS: number }[];
  offBrightness: number;
  /** A dark band sweeping across the floor: from x0 to x1 (pixels) over [startS, endS]. */
  shadows: { startS: number; endS: number; x0: number; x1: number; w: number }[];
}

const q4 = (v: number): number => Math.round(v * 1e4) / 1e4;
/** Hall light switched off this often at a residential entrance (per hour), and shadows. */
const LIGHT_OFFS_PER_HOUR = 12;
const SHADOWS_PER_HOUR = 20;

export function planLights(rng: Rng, spec: SceneSpec, profile: SceneProfile, durationS: number): LightPlan {
  const on = fullSpec(spec).lights;
  // Slow: a peak-to-peak of 3 to 8 grey levels over minutes, as auto exposure follows daylight. A
  // motion gate should not see it; the hall light and the shadows are the changes it will see.
  const periods = Math.max(1, Math.round(durationS / 120));
  const drift = {
    amplitude: on ? q4(uniform(rng, 0.006, 0.015)) : 0,
    periodS: q4(durationS / periods),
    phase: q4(uniform(rng, 0, 2 * Math.PI)),
  };
  const plan: LightPlan = { drift, off: [], offBrightness: -0.13, shadows: [] };
  if (!on || profile !== 'residential') return plan;
  for (const t of poissonTimes(rng, LIGHT_OFFS_PER_HOUR, 1, durationS - 12)) {
    const last = plan.off[plan.off.length - 1];
    if (last && t < last.endS + 2) continue;
    plan.off.push({ startS: q4(t), endS: q4(Math.min(durationS - 1, t + uniform(rng, 8, 40))) });
  }
  const W = spec.width;
  for (const t of poissonTimes(rng, SHADOWS_PER_HOUR, 0.5, durationS - 5, 1)) {
    const w = Math.round(uniform(rng, 0.15, 0.3) * W);
    const leftToRight = rng() < 0.5;
    const [x0, x1] = leftToRight ? [-w, W] : [W, -w];
    plan.shadows.push({ startS: q4(t), endS: q4(t + uniform(rng, 1.5, 4)), x0, x1, w });
  }
  return plan;
}

/** The light changes as the truth lists them. */
export function lightEvents(plan: LightPlan): LightEvent[] {
  return [
    ...plan.off.map((o) => ({ kind: 'lightOff' as const, startS: o.startS, endS: o.endS })),
    ...plan.shadows.map((s) => ({ kind: 'shadow' as const, startS: s.startS, endS: s.endS })),
  ].sort((a, b) => a.startS - b.startS);
}
