// What makes a clip look like a camera rather than a drawing: the door's leaf sliding open, shadows
// passing, the light's drift and switching, and the sensor's temporal grain (seeded).
import type { SceneSpec } from './types.ts';
import { fullSpec } from './mix.ts';
import { mixSeed } from './prng.ts';
import type { ClipPlan } from './schedule.ts';
import { frameExpr } from './filtergraph.ts';

const s = (v: number): string => String(v);

/**
 * The door as a window of width dw on a strip [dark doorway | leaf] twice as wide: the window's x
 * goes from dw (closed: the leaf) to 0 (open: the doorway), so the leaf slides aside.
 */
export function doorChain(plan: ClipPlan, spec: SceneSpec, input: string, out: string): string[] {
  const d = plan.door;
  const F = frameExpr(spec.fps);
  const open = plan.doors
    .map(
      (e) =>
        `clip(min((${F}-${s(e.fStart)})/${s(e.fOpen - e.fStart)},(${s(e.fEnd)}-${F})/${s(e.fEnd - e.fClose)}),0,1)`,
    )
    .join('+');
  const pane = {
    x: d.w + Math.round(d.w * 0.18),
    y: Math.round(d.h * 0.1),
    w: Math.round(d.w * 0.64),
    h: Math.round(d.h * 0.35),
  };
  return [
    [
      `color=c=0x2a2018:s=${s(2 * d.w)}x${s(d.h)}:r=${s(spec.fps)}`,
      `drawbox=x=0:y=0:w=${s(d.w)}:h=${s(d.h)}:color=0x0b0907:t=fill`,
      `drawbox=x=${s(pane.x)}:y=${s(pane.y)}:w=${s(pane.w)}:h=${s(pane.h)}:color=0x5a6e78:t=fill`,
      `crop=w=${s(d.w)}:h=${s(d.h)}:x='${s(d.w)}*(1-(${open}))':y=0[leaf]`,
    ].join(','),
    `[${input}][leaf]overlay=x=${s(d.x)}:y=${s(d.y)}[${out}]`,
  ];
}

/** Shadows sweeping across the floor and the foot of the wall. */
export function shadowChains(plan: ClipPlan, spec: SceneSpec, input: string, out: string): string[] {
  const parts: string[] = [];
  const top = Math.max(0, plan.floorY - Math.round(spec.height * 0.25));
  let prev = input;
  plan.lights.shadows.forEach((sh, i) => {
    const next = i === plan.lights.shadows.length - 1 ? out : `sh${i}out`;
    const x = `${s(sh.x0)}+(${s(sh.x1 - sh.x0)})*(t-${s(sh.startS)})/${s(sh.endS - sh.startS)}`;
    parts.push(`color=c=black@0.35:s=${s(sh.w)}x${s(spec.height - top)}:r=1:d=1,format=rgba[sh${i}]`);
    parts.push(
      `[${prev}][sh${i}]overlay=x='${x}':y=${s(top)}:enable='between(t,${s(sh.startS)},${s(sh.endS)})'[${next}]`,
    );
    prev = next;
  });
  return parts;
}

/** The chain after the last overlay: light (drift, switching) then grain, ending in yuv420p. */
export function lightChain(plan: ClipPlan, spec: SceneSpec): string {
  const full = fullSpec(spec);
  const L = plan.lights;
  const terms: string[] = [];
  if (L.drift.amplitude > 0)
    terms.push(`${s(L.drift.amplitude)}*sin(2*PI*t/${s(L.drift.periodS)}+${s(L.drift.phase)})`);
  if (L.off.length > 0)
    terms.push(
      `${s(L.offBrightness)}*(${L.off.map((o) => `between(t,${s(o.startS)},${s(o.endS)})`).join('+')})`,
    );
  const parts = ['format=yuv420p'];
  if (terms.length > 0) parts.push(`eq=brightness='${terms.join('+')}':eval=frame`);
  if (full.noise > 0)
    parts.push(
      `noise=alls=${s(full.noise)}:allf=t+u:all_seed=${s(mixSeed(spec.seed, plan.index) & 0x7fffffff)}`,
    );
  parts.push('format=yuv420p');
  return parts.join(',');
}
