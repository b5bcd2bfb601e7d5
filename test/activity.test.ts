// The activity gate's decisions (gateway/ingest/rtsp/activity.ts) on GOP byte rates: pure, so driven by
// sequences here; the same gate against the simulator's streams is in test/ingest-activity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createCameraActivity,
  defaultActivityOptions,
  robustBaseline,
  type ActivityOptions,
  type CameraActivity,
} from '../gateway/ingest/rtsp/activity.ts';

const GOP = 90_000; // one keyframe a second, in RTP ticks
const opts = (o: Partial<ActivityOptions> = {}): ActivityOptions => ({ ...defaultActivityOptions, ...o });

/** Deterministic grain: P-frame bytes of a still noisy scene, ~4.5 KB/s +- 0.6. */
function grain(i: number): number {
  return 4500 + Math.round(600 * Math.sin(i * 2.3) * Math.cos(i * 0.7));
}

/** Feeds one GOP of `rate` bytes (in 9 P pictures) and its closing keyframe at second `s`. */
function gop(
  a: CameraActivity,
  s: number,
  rate: number,
  tracked = false,
): ReturnType<CameraActivity['keyframe']> {
  for (let k = 0; k < 9; k++) a.delta(rate / 9, ((s - 1) * GOP + (k + 1) * 9000) >>> 0);
  return a.keyframe((s * GOP) >>> 0, s * 1000, tracked);
}

test('robust baseline: median and scaled MAD, with floors for noise-free scenes', () => {
  const b = robustBaseline([4000, 4500, 5000, 5500, 6000, 90_000]);
  assert.equal(b.median, 5250);
  // MAD of the deviations (1250, 750, 250, 250, 750, 84750) is 750; x1.4826; the outlier does not count.
  assert.ok(Math.abs(b.spread - 1111.95) < 0.01, String(b.spread));
  assert.equal(robustBaseline([400, 400, 400]).spread, 300);
  assert.equal(robustBaseline([20_000, 20_000]).spread, 2000);
});

test('grain alone does not open the gate; a walk-in does, at once', () => {
  const a = createCameraActivity(opts({ forceLookMs: 1e9 }));
  a.keyframe(0, 0, false);
  let decoded = 0;
  let skipped = 0;
  for (let s = 1; s <= 120; s++) {
    const v = gop(a, s, grain(s));
    // Until minSamples (8) GOPs are learned: the first keyframe gave none.
    if (s <= 7) assert.equal(v.decode && v.reason, 'warmup', `second ${s}`);
    else if (v.decode) decoded++;
    else skipped++;
  }
  assert.equal(decoded, 0, `${decoded} noisy keyframes decoded`);
  assert.equal(skipped, 113);
  // Someone walks in: 2.5 KB/s more than the grain, in the GOP before the next keyframe.
  const v = gop(a, 121, grain(121) + 2500);
  assert.deepEqual([v.decode, v.decode && v.reason], [true, 'activity']);
  assert.ok(v.score >= 3, String(v.score));
});

test('a tracked camera is decoded every keyframe, and a tracked GOP does not teach the baseline', () => {
  const a = createCameraActivity(opts({ forceLookMs: 1e9 }));
  a.keyframe(0, 0, false);
  for (let s = 1; s <= 20; s++) gop(a, s, grain(s));
  const before = a.baseline();
  for (let s = 21; s <= 80; s++) {
    // A person standing still while tracked: no more bits than the empty hall.
    const v = gop(a, s, grain(s), true);
    assert.deepEqual([v.decode, v.decode && v.reason], [true, 'track'], `second ${s}`);
  }
  assert.deepEqual(a.baseline(), before);
  // Busy walking while tracked does not raise the baseline either: the next walk-in still counts.
  for (let s = 81; s <= 140; s++) gop(a, s, 9000, true);
  assert.equal(gop(a, 141, 8000).decode, true);
});

test('forced looks every forceLookMs; warm-up after a reconnection; off decodes everything', () => {
  const a = createCameraActivity(opts({ forceLookMs: 10_000 }));
  a.keyframe(0, 0, false);
  const forced: number[] = [];
  for (let s = 1; s <= 60; s++) {
    const v = gop(a, s, grain(s));
    if (v.decode && v.reason === 'forced') forced.push(s);
  }
  assert.deepEqual(forced, [17, 27, 37, 47, 57]);
  a.reconnected();
  // The first keyframe after reconnecting has no GOP before it: no sample, decoded as warm-up.
  const w = [a.keyframe(61 * GOP + 7, 61_000, false), gop(a, 62, grain(62)), gop(a, 63, grain(63))];
  assert.deepEqual(
    w.map((v) => v.decode && v.reason),
    ['warmup', 'warmup', false],
  );
  assert.equal(a.baseline().samples, 62, 'the baseline outlives the reconnection');

  const off = createCameraActivity(opts({ enabled: false }));
  off.keyframe(0, 0, false);
  for (let s = 1; s <= 30; s++) assert.equal(gop(off, s, grain(s)).decode, true);
});

test('odd timestamps are no sample: a keyframe repeated, or a jump of minutes, or a wrap', () => {
  const a = createCameraActivity(opts({ forceLookMs: 1e9, minSamples: 2, warmupKeyframes: 0 }));
  a.keyframe(0xffff_ffff - 45_000, 0, false); // wraps within the next GOP
  a.delta(4000, 46_000);
  a.keyframe(45_000, 1000, false);
  assert.equal(a.baseline().samples, 1);
  assert.equal(Math.round(a.baseline().median), 4000);
  a.delta(99_999, 45_100);
  a.keyframe(45_000, 2000, false); // same timestamp: no sample
  a.delta(99_999, 45_100);
  a.keyframe(45_000 + 31 * GOP, 3000, false); // 31 s gap: no sample
  assert.equal(a.baseline().samples, 1);
});

test('onset between keyframes: once per GOP, only after a skipped keyframe, not on grain', () => {
  const a = createCameraActivity(opts({ forceLookMs: 1e9 }));
  a.keyframe(0, 0, false);
  let falseOnsets = 0;
  for (let s = 1; s <= 100; s++) {
    for (let k = 1; k <= 9; k++) {
      a.delta(grain(s * 10 + k) / 9, (s - 1) * GOP + k * 9000);
      if (s > 8 && a.onset((s - 1) * GOP + k * 9000)) falseOnsets++;
    }
    a.keyframe(s * GOP, s * 1000, false);
  }
  assert.ok(falseOnsets <= 2, `${falseOnsets} onsets on grain in 100 s`);
  // Someone walks in 0.4 s into the GOP: their first picture lifts the GOP's rate enough, once.
  const calls: number[] = [];
  for (let k = 1; k <= 9; k++) {
    a.delta(k <= 4 ? 500 : 1200, 100 * GOP + k * 9000);
    if (a.onset(100 * GOP + k * 9000)) calls.push(k);
  }
  assert.deepEqual(calls, [5]);
  // The keyframe after it is decoded for activity; an onset in the GOP after a decoded keyframe is
  // not a catch-up (that camera is being decoded).
  const v = a.keyframe(101 * GOP, 101_000, false);
  assert.equal(v.decode && v.reason, 'activity');
  for (let k = 1; k <= 9; k++) {
    a.delta(1500, 101 * GOP + k * 9000);
    assert.equal(a.onset(101 * GOP + k * 9000), false);
  }
});

test('a busy door: walkers not yet tracked do not teach the gate that walking is still', () => {
  const a = createCameraActivity(opts({ forceLookMs: 1e9 }));
  a.keyframe(0, 0, false);
  let s = 1;
  for (; s <= 16; s++) gop(a, s, grain(s));
  // Three GOPs in five have someone walking in (+8 KB/s) whose face is not tracked (yet): 96 GOPs,
  // more than the window, so on a median of everything learned the walkers would be the baseline.
  let walkers = 0;
  let opened = 0;
  for (let k = 0; k < 96; k++, s++) {
    const walking = k % 5 < 3;
    const v = gop(a, s, grain(s) + (walking ? 8000 : 0));
    if (walking) {
      walkers++;
      if (v.decode && v.reason === 'activity') opened++;
    } else assert.equal(v.decode, false, `a still GOP at second ${s} was decoded (${v.score})`);
  }
  assert.equal(opened, walkers, `${opened} of ${walkers} walk-ins decoded`);
  assert.ok(a.baseline().median < 8000, `baseline ${a.baseline().median} B/s`);
  // A camera already tracking a face: decoded for the track, and marked active when someone
  // walks in (analysis serves it first), not when the tracked face stands still.
  const walkIn = gop(a, s++, grain(s) + 8000, true);
  assert.deepEqual([walkIn.decode && walkIn.reason, walkIn.active], ['track', true]);
  const standing = gop(a, s++, grain(s), true);
  assert.deepEqual([standing.decode && standing.reason, standing.active], ['track', false]);
});

test('a lasting change of level (light, grain) is learned in the end: the gate closes again', () => {
  const a = createCameraActivity(opts({ forceLookMs: 1e9 }));
  a.keyframe(0, 0, false);
  let s = 1;
  for (; s <= 16; s++) gop(a, s, grain(s));
  let lastOpen = 0;
  for (let k = 0; k < 400; k++, s++) if (gop(a, s, grain(s) + 3000).decode) lastOpen = k;
  assert.ok(lastOpen > 0 && lastOpen < 300, `the gate was last open ${lastOpen} GOPs into the new level`);
});

test('after a track, forced looks come every 3 s for 15 s, then every 10 s again', () => {
  const a = createCameraActivity(opts());
  a.keyframe(0, 0, false);
  let s = 1;
  for (; s <= 30; s++) gop(a, s, grain(s));
  gop(a, s++, grain(s), true); // the last keyframe with a tracked face, at second 31
  const forced: number[] = [];
  for (; s <= 80; s++) {
    const v = gop(a, s, grain(s));
    if (v.decode) forced.push(s);
  }
  assert.deepEqual(forced, [34, 37, 40, 43, 53, 63, 73]);
});
