// Entrance profiles measured from the ground truth, sensor grain measured in the encoded stream,
// and the scorer's treatment of movement without a face.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { createLogger } from '../shared/log.ts';
import { ensureScenes, planScenes } from '../simulator/scenes/render.ts';
import { BUSY_NOMINAL, clipKind } from '../simulator/scenes/mix.ts';
import { residentialOccupancy } from '../simulator/scenes/residential.ts';
import { specHash } from '../simulator/scenes/cache.ts';
import { parseAnnexB } from '../rtsp/h264.ts';
import { createFleet } from '../simulator/fleet.ts';
import type { SceneSpec } from '../simulator/scenes/types.ts';
import { scoreEvents } from '../bench/score.ts';
import { execFileSync } from 'node:child_process';
import { appearancesAt } from '../simulator/scenes/truth.ts';
import { createDetector, MODEL_H, MODEL_W, type FaceDetector } from './helpers/scenes-ultraface.ts';

const base: SceneSpec = {
  width: 640,
  height: 360,
  fps: 10,
  keyframeIntervalS: 1,
  seconds: 60,
  count: 8,
  seed: 1,
};
const log = createLogger({ level: 'silent', format: 'json' });

/** Passages an hour and face occupancy of a city, from the fleet's truth over `hours` of camera time. */
function measure(spec: SceneSpec, cameras: number, hours: number): { perHour: number; occupancy: number } {
  const fleet = createFleet({ count: cameras, seed: spec.seed, clips: planScenes(spec) });
  const from = Date.UTC(2026, 0, 1);
  const to = from + hours * 3_600_000;
  let passages = 0;
  let faceMs = 0;
  for (const cam of fleet.list()) {
    for (const iv of fleet.truth(cam.id, from, to)) {
      if (!iv.isFace || iv.startMs < from) continue;
      passages++;
      faceMs += Math.min(iv.endMs, to) - iv.startMs;
    }
  }
  return { perHour: passages / (cameras * hours), occupancy: faceMs / (cameras * (to - from)) };
}

const within = (got: number, want: number, what: string): void =>
  assert.ok(
    Math.abs(got - want) <= 0.15 * want,
    `${what}: measured ${got.toFixed(3)}, config says ${want.toFixed(3)}`,
  );

test('profiles: passages per hour and face occupancy from the truth are within 15 % of the config', () => {
  const busy = measure({ ...base, count: 64 }, 256, 4);
  within(busy.perHour, BUSY_NOMINAL.passagesPerHour, 'busy passages/h');
  within(busy.occupancy, BUSY_NOMINAL.occupancy, 'busy occupancy');
  for (const pph of [20, 60]) {
    // 256 clips of 10 min (43 h of distinct video): a few hundred passages, so chance stays ~5 %.
    const spec = { ...base, count: 256, residentialShare: 1, residentialSeconds: 600, passagesPerHour: pph };
    const r = measure(spec, 1000, 4);
    within(r.perHour, pph, `residential ${pph}/h passages/h`);
    within(r.occupancy, residentialOccupancy(pph), `residential ${pph}/h occupancy`);
  }
});

test('profiles: residential truth has faces and every kind of movement without one; a mix gives both doors and both codecs', () => {
  const spec = { ...base, count: 16, residentialShare: 1, residentialSeconds: 300 };
  const clips = planScenes(spec);
  const kinds = new Set(clips.flatMap((c) => c.appearances.map((a) => `${a.asset}:${a.isFace}`)));
  for (const k of ['door', 'pet', 'back', 'small-face', 'blurred-face'])
    assert.ok(kinds.has(`${k}:false`), k);
  assert.ok(kinds.has('astronaut:true') && kinds.has('camera:true'));
  assert.ok(clips.every((c) => c.profile === 'residential' && c.durationS === 300));
  assert.ok(clips.some((c) => c.lights.some((l) => l.kind === 'lightOff')));
  assert.ok(clips.some((c) => c.lights.some((l) => l.kind === 'shadow')));
  // A distractor drawn over people would hide a face: none overlaps a face in time.
  for (const c of clips)
    for (const d of c.appearances.filter((a) => !a.isFace && a.asset !== 'door'))
      for (const f of c.appearances.filter((a) => a.isFace))
        assert.ok(d.endS <= f.startS || f.endS <= d.startS, `${d.id} overlaps ${f.id}`);
  // Without distractors, no movement without a face; every field changes the cache key.
  assert.ok(planScenes({ ...spec, distractors: false }).every((c) => c.appearances.every((a) => a.isFace)));
  const hashes = new Set(
    [
      spec,
      { ...spec, distractors: false },
      { ...spec, noise: 3 },
      { ...spec, lights: false },
      { ...spec, passagesPerHour: 21 },
      { ...spec, residentialSeconds: 301 },
      { ...spec, h265Share: 0.5 },
      { ...spec, residentialShare: 0.5 },
    ].map(specHash),
  );
  assert.equal(hashes.size, 8);
  const mixed = { ...base, count: 8, residentialShare: 0.75, h265Share: 0.5 };
  const kindsOf = Array.from({ length: 8 }, (_, i) => clipKind(mixed, i));
  assert.equal(kindsOf.filter((k) => k.profile === 'residential').length, 6);
  assert.equal(kindsOf.filter((k) => k.codec === 'h265').length, 4);
  const combos = new Set(kindsOf.map((k) => `${k.profile}/${k.codec}`));
  assert.equal(combos.size, 4, [...combos].join(' '));
});

/** P-frame bytes in each whole second of an H.264 clip. */
function pBytesPerSecond(data: Buffer, fps: number): number[] {
  const units = parseAnnexB(data).units;
  const out: number[] = [];
  for (let s = 0; (s + 1) * fps <= units.length; s++) {
    let n = 0;
    for (const u of units.slice(s * fps, (s + 1) * fps))
      if (!u.idr) for (const nal of u.nals) n += nal.length;
    out.push(n);
  }
  return out;
}

test('sensor grain: an empty second of a 640x360 10 fps camera carries >= 2 KB of P-frames; without grain far less', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'facegate-noise-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const empty = {
    ...base,
    count: 2,
    seed: 11,
    residentialShare: 1,
    residentialSeconds: 6,
    passagesPerHour: 0,
    distractors: false,
    lights: false,
  };
  const deps = { cacheDir: dir, ffmpeg: resolveFfmpeg('', process.env['PATH'] ?? ''), log };
  const grainy = await ensureScenes(empty, deps);
  const clean = await ensureScenes({ ...empty, noise: 0 }, deps);
  for (const [i, c] of grainy.entries()) {
    assert.equal(c.appearances.length, 0, 'nothing moves in this clip');
    const noisy = pBytesPerSecond(await readFile(c.file), 10);
    const flat = pBytesPerSecond(await readFile(clean[i]!.file), 10);
    assert.ok(
      Math.min(...noisy) >= 2048,
      `clip ${i}: P-frame bytes per second with grain: ${noisy.join(', ')}`,
    );
    assert.ok(Math.max(...flat) < 1024, `clip ${i}: without grain: ${flat.join(', ')}`);
  }
});

test('scorer: movement without a face is not counted for recall, and a start on it costs precision', () => {
  const spec = { ...base, count: 4, residentialShare: 1, residentialSeconds: 120, passagesPerHour: 120 };
  const clips = planScenes(spec);
  const fleet = createFleet({ count: 1, seed: 1, clips });
  const cam = '000001';
  const from = 0;
  const to = 3_600_000;
  const truth = fleet.truth(cam, from, to).filter((iv) => iv.startMs >= from && iv.endMs <= to);
  const faces = truth.filter((iv) => iv.isFace && iv.endMs - iv.startMs >= 1500);
  const others = truth.filter((iv) => !iv.isFace);
  assert.ok(faces.length > 0 && others.length > 0);
  // A start on every face, and one on each distractor that no face is near.
  const lone = others.filter(
    (o) => !truth.some((f) => f.isFace && f.startMs < o.endMs + 3000 && o.startMs < f.endMs + 3000),
  );
  assert.ok(lone.length > 0);
  const starts = [...faces, ...lone].map((iv) => ({
    cameraId: cam,
    ts: iv.startMs + 200,
    arrivedAt: iv.startMs + 500,
  }));
  const s = scoreEvents(fleet, [cam], starts, from, to);
  assert.equal(s.appearances, faces.length, 'only faces count for recall');
  assert.equal(s.recall, 1);
  assert.equal(s.distractorStarts, lone.length);
  assert.equal(s.trueStarts, faces.length);
  assert.ok(Math.abs(s.precision - faces.length / (faces.length + lone.length)) < 1e-9);
});

test('distractors are what the truth says: UltraFace (score >= 0.7) stays off the pet, back of a head, small and blurred faces', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'facegate-distractors-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ffmpeg = resolveFfmpeg('', process.env['PATH'] ?? '');
  // Nobody passing: clip i shows distractor kind i first (door, pet, back, small, blurred face).
  const spec = {
    ...base,
    count: 5,
    seed: 4,
    residentialShare: 1,
    residentialSeconds: 16,
    passagesPerHour: 0,
  };
  const clips = await ensureScenes(spec, { cacheDir: dir, ffmpeg, log });
  const det: FaceDetector = await createDetector(0.3);
  t.after(() => det.close());
  const frames = new Map<string, number>();
  const fired = new Map<string, number>();
  const size = MODEL_W * MODEL_H * 3;
  for (const clip of clips) {
    const rgb = execFileSync(
      ffmpeg.path,
      [
        ...['-v', 'error', '-threads', '1', '-i', clip.file, '-vf', `scale=${MODEL_W}:${MODEL_H}`],
        ...['-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
      ],
      { maxBuffer: 1 << 28 },
    );
    for (let f = 0; f < clip.frames; f++) {
      const visible = appearancesAt(clip, f / clip.fps).filter(
        (v) => v.box.x > 0 && v.box.y > 0 && v.box.x + v.box.w < 1 && v.box.y + v.box.h < 1,
      );
      if (visible.length === 0) continue;
      assert.ok(visible.every((v) => !v.appearance.isFace));
      const dets = (await det.detect(rgb.subarray(f * size, (f + 1) * size))).filter((d) => d.score >= 0.7);
      for (const v of visible) {
        const k = v.appearance.asset;
        frames.set(k, (frames.get(k) ?? 0) + 1);
        if (dets.length > 0) fired.set(k, (fired.get(k) ?? 0) + 1);
      }
    }
  }
  const report = [...frames].map(([k, n]) => `${k} ${fired.get(k) ?? 0}/${n}`).join(', ');
  t.diagnostic(`frames with a detection, by distractor: ${report}`);
  for (const k of ['door', 'pet', 'back', 'small-face', 'blurred-face']) {
    const n = frames.get(k) ?? 0;
    assert.ok(n >= 5, `${k}: ${n} frames fully in view`);
    assert.ok((fired.get(k) ?? 0) <= 0.1 * n, `UltraFace takes ${k} for a face: ${report}`);
  }
});
