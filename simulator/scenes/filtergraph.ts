// Turns a ClipPlan into ffmpeg inputs and a filter_complex. Positions are expressions of the
// frame index, built from the same Segment numbers that schedule.ts evaluates for ground truth.
import type { SceneSpec } from './types.ts';
import { backgroundFile, backSource, type SceneAsset } from './assets.ts';
import type { ClipPlan, PlannedAppearance, Segment } from './schedule.ts';
import { doorChain, lightChain, shadowChains } from './realism.ts';

export interface ClipGraph {
  /** Image files (relative to the assets dir), in input order after input 0 (the lavfi clock). */
  images: string[];
  /** The lavfi source for input 0: a black clock at the clip's frame rate. */
  clock: string;
  filter: string;
  /** Label of the final video. */
  out: string;
}

const num = (v: number): string => `(${String(v)})`;

/**
 * The frame index from t, rounded so that tiny float differences in how ffmpeg derives t
 * (time-base rescaling in framesync) can never shift it. (Overlay's `n` is off by one.)
 */
export function frameExpr(fps: number): string {
  return `floor(t*${String(fps)}+0.5)`;
}

function pathExpr(segs: readonly Segment[], axis: 'x' | 'y', fps: number): string {
  const F = frameExpr(fps);
  const piece = (s: Segment): string =>
    axis === 'x'
      ? `${num(s.x0)}+${num(s.kx)}*(${F}-${String(s.f0)})`
      : `${num(s.y0)}+${num(s.ky)}*(${F}-${String(s.f0)})`;
  // if(lt(F, f1), piece0, if(lt(F, f2), piece1, piece2)) — the same selection as overlayPosition().
  let expr = piece(segs[segs.length - 1] as Segment);
  for (let i = segs.length - 2; i >= 0; i--) {
    const next = segs[i + 1] as Segment;
    expr = `if(lt(${F},${String(next.f0)}),${piece(segs[i] as Segment)},${expr})`;
  }
  return expr;
}

/** Static background: the texture tiled, tinted, with a door, its frame, a window and the floor. */
function backgroundChain(plan: ClipPlan, spec: SceneSpec, input: string): string[] {
  const W = spec.width;
  const H = spec.height;
  const tile = Math.max(16, 2 * Math.ceil(H / 4)); // two rows of tiles
  const cols = Math.ceil(W / tile);
  const rows = Math.ceil(H / tile);
  const parts: string[] = [];
  parts.push(
    `[${input}]format=gray,scale=${tile}:${tile},gblur=sigma=0.7,eq=brightness=${plan.bgBrightness}:contrast=0.85[tex]`,
  );
  let row = 'tex';
  if (cols > 1) {
    parts.push(`[tex]split=${cols}${Array.from({ length: cols }, (_, i) => `[tc${i}]`).join('')}`);
    parts.push(`${Array.from({ length: cols }, (_, i) => `[tc${i}]`).join('')}hstack=inputs=${cols}[row]`);
    row = 'row';
  }
  let wall = row;
  if (rows > 1) {
    parts.push(`[${row}]split=${rows}${Array.from({ length: rows }, (_, i) => `[tr${i}]`).join('')}`);
    parts.push(`${Array.from({ length: rows }, (_, i) => `[tr${i}]`).join('')}vstack=inputs=${rows}[wall]`);
    wall = 'wall';
  }
  const [r, g, b] = plan.tint;
  const d = plan.door;
  const frame = Math.max(4, Math.round(W / 80));
  const box = (x: number, y: number, w: number, h: number, color: string, t: string): string =>
    `drawbox=x=${x}:y=${y}:w=${w}:h=${h}:color=${color}:t=${t}`;
  parts.push(
    [
      `[${wall}]crop=${W}:${H}:0:0`,
      'format=rgb24',
      `colorchannelmixer=rr=${r}:gg=${g}:bb=${b}`,
      box(0, plan.floorY, W, H - plan.floorY, '0x4a4642@0.92', 'fill'),
      box(d.x, d.y, d.w, d.h, '0x2a2018@0.9', 'fill'),
      // a glass pane in the upper door, and the frame around it all
      box(
        d.x + Math.round(d.w * 0.18),
        d.y + Math.round(d.h * 0.1),
        Math.round(d.w * 0.64),
        Math.round(d.h * 0.35),
        '0x8fb4c8@0.45',
        'fill',
      ),
      box(d.x - frame, d.y - frame, d.w + 2 * frame, d.h + frame, '0x7a5a32', String(frame)),
      // a lamp above the door
      box(
        d.x + Math.round(d.w / 2) - frame * 2,
        Math.max(0, d.y - frame * 4),
        frame * 4,
        frame * 2,
        '0xfff2c0',
        'fill',
      ),
      'format=yuv420p[bg]',
    ].join(','),
  );
  return parts;
}

function overlayChain(app: PlannedAppearance, input: string, out: string): string {
  const a: SceneAsset = app.asset;
  const c = a.crop;
  // Blur before the alpha, and in yuva so that the drawn shape's edge is blurred too.
  const blur = app.blur > 0 ? [`gblur=sigma=${app.blur}`] : [];
  if (!a.file)
    return [
      backSource(app.w, app.h),
      'format=yuva444p',
      `eq=brightness=${app.brightness}:contrast=${app.contrast}`,
      ...blur,
      `format=rgba[${out}]`,
    ].join(',');
  return [
    `[${input}]crop=${c.w}:${c.h}:${c.x}:${c.y}`,
    `scale=${app.w}:${app.h}`,
    'format=yuv444p',
    `eq=brightness=${app.brightness}:contrast=${app.contrast}`,
    ...blur,
    ...(app.flip ? ['hflip'] : []),
    'format=rgba',
    // A feathered ellipse, so the overlay reads as a head rather than a pasted rectangle.
    `geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(5*(1-hypot(2*X/W-1,2*Y/H-1)),0,1)'[${out}]`,
  ].join(',');
}

export function clipGraph(plan: ClipPlan, spec: SceneSpec): ClipGraph {
  const images = [backgroundFile(plan.background)];
  const users = new Map<string, string[]>(); // image file -> labels of the appearances that use it
  plan.appearances.forEach((app, i) => {
    if (!app.asset.file) return; // drawn by ffmpeg
    if (!images.includes(app.asset.file)) images.push(app.asset.file);
    const list = users.get(app.asset.file) ?? [];
    list.push(`src${i}`);
    users.set(app.asset.file, list);
  });
  const parts = backgroundChain(plan, spec, '1:v');
  for (const [file, labels] of users) {
    const idx = images.indexOf(file) + 1;
    parts.push(`[${idx}:v]split=${labels.length}${labels.map((l) => `[${l}]`).join('')}`);
  }
  parts.push('[0:v][bg]overlay=x=0:y=0[scene]');
  // The door and the shadows belong to the room: people pass in front of them.
  let room = 'scene';
  if (plan.doors.length > 0) {
    parts.push(...doorChain(plan, spec, room, 'doored'));
    room = 'doored';
  }
  const shadows = shadowChains(plan, spec, room, 'v0');
  if (shadows.length > 0) parts.push(...shadows);
  else parts.push(`[${room}]null[v0]`);
  plan.appearances.forEach((app, i) => {
    parts.push(overlayChain(app, `src${i}`, `ov${i}`));
    // Enabled half a frame beyond the path's ends (which are off-screen anyway).
    const from = (app.fStart - 0.5) / spec.fps;
    const to = (app.fEnd + 0.5) / spec.fps;
    parts.push(
      `[v${i}][ov${i}]overlay=x='${pathExpr(app.segments, 'x', spec.fps)}':y='${pathExpr(app.segments, 'y', spec.fps)}'` +
        `:enable='between(t,${from},${to})'[v${i + 1}]`,
    );
  });
  const last = `v${plan.appearances.length}`;
  // Light over everything (people included), then the sensor's grain on top of it all.
  parts.push(`[${last}]${lightChain(plan, spec)}[out]`);
  return {
    images,
    clock: `color=c=black:s=${spec.width}x${spec.height}:r=${String(spec.fps)}`,
    filter: parts.join(';'),
    out: 'out',
  };
}
