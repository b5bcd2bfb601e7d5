// Scene rendering: stream structure (ffprobe), cache, determinism, and ground truth checked
// against the real UltraFace model.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { resolveFfmpeg, type FfmpegBinary } from '../shared/ffmpeg.ts';
import { createLogger } from '../shared/log.ts';
import { ensureScenes, planScenes } from '../simulator/scenes/render.ts';
import { partialDir, removeStalePartials, specHash } from '../simulator/scenes/cache.ts';
import { clipTiming } from '../simulator/scenes/schedule.ts';
import { appearancesAt, intervals } from '../simulator/scenes/truth.ts';
import type { Box, SceneClip, SceneSpec } from '../simulator/scenes/types.ts';
import {
  createDetector,
  iou,
  MODEL_H,
  MODEL_W,
  type Detection,
  type FaceDetector,
} from './helpers/scenes-ultraface.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const spec: SceneSpec = {
  width: 640,
  height: 360,
  fps: 10,
  keyframeIntervalS: 1,
  seconds: 8,
  count: 4,
  seed: 7,
};
const defaultSpec: SceneSpec = {
  width: 640,
  height: 360,
  fps: 10,
  keyframeIntervalS: 1,
  seconds: 60,
  count: 8,
  seed: 1,
};
const log = createLogger({ level: 'silent', format: 'json' });

let dir = '';
let bin: FfmpegBinary;
let clips: SceneClip[] = [];
const progress: [number, number][] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'facegate-scenes-'));
  bin = resolveFfmpeg('', process.env['PATH'] ?? '');
  clips = await ensureScenes(spec, {
    cacheDir: dir,
    ffmpeg: bin,
    log,
    onProgress: (d, t) => progress.push([d, t]),
  });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** NAL unit types of an Annex-B stream, in order. */
function nalTypes(buf: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      types.push((buf[i + 3] ?? 0) & 0x1f);
      i += 3;
    }
  }
  return types;
}

test('clip timing rounds up to whole GOPs', () => {
  assert.deepEqual(clipTiming({ ...spec, seconds: 7.5 }), { gopFrames: 10, frames: 80, durationS: 8 });
  assert.deepEqual(clipTiming({ ...spec, keyframeIntervalS: 2, seconds: 5 }), {
    gopFrames: 20,
    frames: 60,
    durationS: 6,
  });
  assert.throws(() => clipTiming({ ...spec, width: 641 }), /width/);
});

test('renders H.264 Annex-B clips: exact frame count, IDR first, fixed GOP, no B-frames', async () => {
  assert.equal(clips.length, spec.count);
  const last = progress[progress.length - 1];
  assert.deepEqual(last, [spec.count * 80, spec.count * 80]);
  for (const clip of clips) {
    assert.equal(clip.frames, 80);
    assert.equal(clip.gopFrames, 10);
    assert.equal(clip.durationS, 8);
    const json = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'frame=key_frame,pict_type',
        '-of',
        'json',
        clip.file,
      ],
      {
        encoding: 'utf8',
      },
    );
    const frames = (JSON.parse(json) as { frames: { key_frame: number; pict_type: string }[] }).frames.map(
      (f) => `${f.key_frame},${f.pict_type}`,
    );
    assert.equal(frames.length, clip.frames, 'frame count');
    frames.forEach((f, i) => {
      assert.equal(f, i % clip.gopFrames === 0 ? '1,I' : '0,P', `frame ${i}`);
    });
    const dims = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-show_entries',
        'stream=width,height,profile,pix_fmt,has_b_frames',
        '-of',
        'csv=p=0',
        clip.file,
      ],
      {
        encoding: 'utf8',
      },
    ).trim();
    assert.equal(dims, 'Main,640,360,0,yuv420p'); // ffprobe prints in its own field order
    // Every GOP opens with SPS, PPS and an IDR slice, so each keyframe is a clean entry (and the loop seam too).
    const nals = nalTypes(await readFile(clip.file)).filter((t) => t === 1 || t === 5 || t === 7 || t === 8);
    const gops = clip.frames / clip.gopFrames;
    assert.deepEqual(nals.slice(0, 3), [7, 8, 5]);
    assert.equal(nals.filter((t) => t === 5).length, gops, 'one IDR per GOP');
    assert.equal(nals.filter((t) => t === 7).length, gops, 'SPS before each IDR');
    assert.equal(nals.filter((t) => t === 1).length, clip.frames - gops);
  }
});

test('a second call is served from the cache without running ffmpeg', async () => {
  const manifest = join(dir, specHash(spec), 'manifest.json');
  const before = (await stat(manifest)).mtimeMs;
  const t0 = performance.now();
  // A binary that cannot run: any render attempt would fail.
  const again = await ensureScenes(
    { ...spec },
    { cacheDir: dir, ffmpeg: { ...bin, path: '/nonexistent/ffmpeg' }, log },
  );
  assert.ok(performance.now() - t0 < 1000);
  assert.deepEqual(again, clips);
  assert.equal((await stat(manifest)).mtimeMs, before);
  assert.deepEqual((await readdir(dir)).sort(), [specHash(spec)]);
});

test('a partial render is never taken for a complete one', async () => {
  const other = { ...spec, count: 1, seconds: 2, seed: 99 };
  const hash = specHash(other);
  // A killed render leaves its partial directory (dead pid) and no manifest at the final path.
  await mkdir(join(dir, `${hash}.partial-999999999`), { recursive: true });
  await mkdir(join(dir, hash), { recursive: true });
  await writeFile(join(dir, hash, 'clip-000.h264'), 'half a clip');
  // Two concurrent calls share one render.
  const [got, twin] = await Promise.all([
    ensureScenes(other, { cacheDir: dir, ffmpeg: bin, log }),
    ensureScenes(other, { cacheDir: dir, ffmpeg: bin, log }),
  ]);
  assert.deepEqual(twin, got);
  assert.equal(got.length, 1);
  assert.ok((await stat(got[0]?.file ?? '')).size > 100);
  assert.ok(!(await readdir(dir)).some((n) => n.includes('.partial-')));
  await rm(join(dir, hash), { recursive: true, force: true });
});

test("stale partial renders: dead pids of this host go, another host's only when old (replicas share a cache volume)", async () => {
  const hash = 'feedfacefeedface';
  const mine = partialDir(dir, hash, 999_999_999);
  const live = partialDir(dir, hash, process.pid);
  // A replica in another container: its pid means nothing here (it may even be ours).
  const theirs = partialDir(dir, hash, 999_999_999, 'other-container');
  const abandoned = partialDir(dir, hash, process.pid, 'gone-container');
  for (const d of [mine, live, theirs, abandoned]) await mkdir(d, { recursive: true });
  const old = new Date(Date.now() - 2 * 3_600_000);
  await utimes(abandoned, old, old);
  await removeStalePartials(dir, hash);
  const left = (await readdir(dir)).filter((n) => n.startsWith(hash));
  assert.deepEqual(left.sort(), [basename(live), basename(theirs)].sort());
  for (const d of [live, theirs]) await rm(d, { recursive: true, force: true });
});

test('the schedule is deterministic for a seed and the manifest carries it', () => {
  const a = planScenes(spec);
  assert.deepEqual(planScenes({ ...spec }), a);
  assert.notDeepEqual(planScenes({ ...spec, seed: spec.seed + 1 }), a);
  assert.deepEqual(
    clips.map((c) => c.appearances),
    a.map((c) => c.appearances),
  );
});

test('the default schedule has solos, pairs, long empty stretches, hard negatives, sane sizes', () => {
  const all = planScenes(defaultSpec);
  const { width: W, height: H, fps } = defaultSpec;
  let pairs = 0;
  let negatives = 0;
  let longGaps = 0;
  for (const clip of all) {
    const apps = clip.appearances;
    for (const a of apps) {
      assert.ok(a.startS >= 0 && a.endS <= clip.durationS, `${a.id} inside the clip`);
      const frames = a.boxes.map((b) => b.frame);
      assert.deepEqual(
        frames,
        Array.from({ length: frames.length }, (_, i) => (frames[0] ?? 0) + i),
        `${a.id} contiguous`,
      );
      assert.equal(a.startS, (frames[0] ?? 0) / fps);
      const inside = a.boxes.filter(({ box: b }) => b.x > 0 && b.y > 0 && b.x + b.w < 1 && b.y + b.h < 1);
      // walk in + a stay of 3..8 s fully in frame + walk out
      assert.ok(inside.length >= 3 * fps - 1, `${a.id} stays >= 3 s (${inside.length} frames)`);
      assert.ok(a.endS - a.startS <= 8 + 2 * 1.8 + 0.3, `${a.id} not too long`);
      for (const { box: b } of a.boxes)
        assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.w <= 1 + 1e-9 && b.y + b.h <= 1 + 1e-9);
      if (a.isFace) {
        const hPx = Math.max(...inside.map((b) => b.box.h)) * H;
        assert.ok(hPx >= 40 && hPx <= 0.46 * H, `${a.id} face ${hPx.toFixed(0)} px tall`);
        assert.ok(Math.max(...inside.map((b) => b.box.w)) * W >= 25);
      } else {
        negatives++;
      }
    }
    for (let i = 0; i < apps.length; i++)
      for (let j = i + 1; j < apps.length; j++) {
        const x = apps[i];
        const y = apps[j];
        if (x && y && x.startS < y.endS && y.startS < x.endS) pairs++;
      }
    const edges = [0, ...apps.flatMap((a) => [a.startS, a.endS]).sort((p, q) => p - q), clip.durationS];
    for (let i = 0; i + 1 < edges.length; i += 2) if ((edges[i + 1] ?? 0) - (edges[i] ?? 0) >= 10) longGaps++;
  }
  assert.ok(pairs >= 2, `pairs: ${pairs}`);
  assert.ok(negatives >= 1, `negatives: ${negatives}`);
  assert.ok(longGaps >= 1, `long gaps: ${longGaps}`);
});

test('truth helpers loop the clip and shift by phase', () => {
  const clip = clips.find((c) => c.appearances.length > 0);
  assert.ok(clip);
  const a = clip.appearances[0];
  assert.ok(a);
  const mid = a.boxes[Math.floor(a.boxes.length / 2)];
  assert.ok(mid);
  const t = mid.frame / clip.fps;
  const now = appearancesAt(clip, t);
  assert.ok(now.some((v) => v.appearance.id === a.id && v.box === mid.box));
  assert.deepEqual(appearancesAt(clip, t + 3 * clip.durationS), now);
  assert.deepEqual(appearancesAt(clip, t - clip.durationS), now);
  assert.ok(!appearancesAt(clip, a.endS + 1e-3).some((v) => v.appearance.id === a.id));

  const D = clip.durationS;
  const all = intervals(clip, 0, 3 * D);
  assert.equal(all.length, 3 * clip.appearances.length);
  const phase = 2.5;
  const shifted = intervals(clip, 0, 3 * D, phase).filter((i) => i.id === a.id && i.loop === 1);
  assert.equal(shifted.length, 1);
  assert.ok(Math.abs((shifted[0]?.startS ?? 0) - (a.startS - phase + D)) < 1e-9);
  // Clipped to the window.
  for (const i of intervals(clip, 1, 2, phase)) assert.ok(i.startS >= 1 && i.endS <= 2 && i.endS > i.startS);
});

/** All frames of a clip decoded and stretched to the model's 320x240 RGB. */
function decodeForModel(clip: SceneClip): Buffer {
  return execFileSync(
    bin.path,
    [
      '-v',
      'error',
      '-threads',
      '1',
      '-i',
      clip.file,
      '-vf',
      `scale=${MODEL_W}:${MODEL_H}`,
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      'pipe:1',
    ],
    { maxBuffer: 1 << 28 },
  );
}

const fullyInside = (b: Box): boolean => b.x > 0 && b.y > 0 && b.x + b.w < 1 && b.y + b.h < 1;

test('UltraFace finds each face where ground truth says, and nothing in empty frames', async (t) => {
  let det: FaceDetector | undefined;
  try {
    det = await createDetector(0.3);
    let faceFrames = 0;
    let faceHits = 0;
    let emptyFrames = 0;
    let iouSum = 0;
    const frameBytes = MODEL_W * MODEL_H * 3;
    for (const clip of clips) {
      const raw = decodeForModel(clip);
      assert.equal(raw.length, clip.frames * frameBytes);
      for (let f = 0; f < clip.frames; f++) {
        const visible = appearancesAt(clip, f / clip.fps);
        const faces = visible.filter((v) => v.appearance.isFace && fullyInside(v.box));
        const empty = visible.length === 0;
        if (!empty && faces.length === 0) continue; // only walking in/out, or a hard negative
        const dets: Detection[] = (
          await det.detect(raw.subarray(f * frameBytes, (f + 1) * frameBytes))
        ).filter((d) => d.score >= 0.7);
        if (empty) {
          emptyFrames++;
          assert.equal(
            dets.length,
            0,
            `clip ${clip.index} frame ${f} is empty but got ${JSON.stringify(dets)}`,
          );
          continue;
        }
        for (const v of faces) {
          faceFrames++;
          const best = Math.max(0, ...dets.map((d) => iou(d, v.box)));
          iouSum += best;
          if (best > 0.3) faceHits++;
        }
      }
    }
    t.diagnostic(
      `faces at their truth box in ${faceHits}/${faceFrames} frames (mean IoU ${(iouSum / faceFrames).toFixed(2)}); ${emptyFrames} empty frames clean`,
    );
    assert.ok(faceFrames >= 30, `face frames checked: ${faceFrames}`);
    assert.ok(emptyFrames >= 10, `empty frames checked: ${emptyFrames}`);
    assert.ok(
      faceHits / faceFrames >= 0.9,
      `faces found at their truth box in ${faceHits}/${faceFrames} frames`,
    );
    // Boxes drawn where truth says, not merely overlapping: a shifted or mis-scaled box would drag this down.
    assert.ok(iouSum / faceFrames >= 0.6, `mean IoU ${iouSum / faceFrames}`);
  } finally {
    await det?.close();
  }
});
