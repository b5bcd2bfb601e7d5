// The motion gate on synthetic frames: still scenes skipped, a face-sized change passes, forced looks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMotionGate, regionDiff, thumbnail } from '../gateway/motion.ts';
import type { Frame } from '../gateway/frame.ts';

const W = 320,
  H = 240;

/** A textured scene with a little per-pixel noise, as a re-encoded still camera gives. */
function scene(seed: number, square?: { x: number; y: number; size: number; value: number }): Buffer {
  const rgb = Buffer.alloc(W * H * 3);
  let s = seed;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const noise = ((s >>> 16) % 7) - 3; // -3..3
      const base = 60 + (((x >> 4) + (y >> 4)) % 2) * 40;
      const inSq =
        square && x >= square.x && x < square.x + square.size && y >= square.y && y < square.y + square.size;
      const v = Math.max(0, Math.min(255, (inSq ? square.value : base) + noise));
      rgb.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return rgb;
}

function frame(rgb: Buffer, captureTs: number, cameraId = 'c1'): Frame {
  return { cameraId, width: W, height: H, rgb, captureTs, seq: 0 };
}

test('still frames are skipped after the first; a 30 px change passes', () => {
  const gate = createMotionGate({ threshold: 2, forceEveryS: 5 });
  assert.deepEqual(gate.check(frame(scene(1), 0)), { pass: true, reason: 'first', diff: -1 });
  for (let i = 1; i <= 4; i++) {
    const r = gate.check(frame(scene(1 + i), i * 1000));
    assert.equal(r.pass, false, `still frame ${i} passed with diff ${r.diff}`);
    assert.equal(r.reason, 'still');
  }
  const face = scene(9, { x: 150, y: 100, size: 30, value: 170 });
  const r = gate.check(frame(face, 4500));
  assert.equal(r.pass, true);
  assert.equal(r.reason, 'motion');
  assert.ok(r.diff > 10, String(r.diff));
  // The same change averaged over the whole frame would be under the threshold: why regions.
  const a = thumbnail(scene(1), W, H, 8);
  const b = thumbnail(face, W, H, 8);
  let whole = 0;
  for (let i = 0; i < a.thumb.length; i++) whole += Math.abs((a.thumb[i] ?? 0) - (b.thumb[i] ?? 0));
  assert.ok(whole / a.thumb.length < 2, `whole-frame mean ${whole / a.thumb.length}`);
  assert.equal(regionDiff(a.thumb, a.thumb, a.tw, a.th, 5), 0);
});

test('a face that stays still is looked at again every forceEveryS of capture time', () => {
  const gate = createMotionGate({ threshold: 2, forceEveryS: 5 });
  const still = scene(3, { x: 40, y: 40, size: 40, value: 220 });
  assert.equal(gate.check(frame(still, 10_000)).reason, 'first');
  const reasons: string[] = [];
  for (let t = 11_000; t <= 21_000; t += 1000) reasons.push(gate.check(frame(still, t)).reason);
  // Passes at 15 s and 20 s (5 s after the last pass), skipped otherwise.
  assert.deepEqual(reasons, [
    'still',
    'still',
    'still',
    'still',
    'forced',
    'still',
    'still',
    'still',
    'still',
    'forced',
    'still',
  ]);
  // A capture clock that jumps back forces a look too.
  assert.equal(gate.check(frame(still, 1000)).reason, 'forced');
});

test('bypass, slow drift, cameras kept apart, removal', () => {
  const gate = createMotionGate({ threshold: 2, forceEveryS: 60 });
  const base = scene(4);
  gate.check(frame(base, 0));
  assert.equal(gate.check(frame(base, 100), { bypass: true }).reason, 'bypass');
  assert.equal(gate.check(frame(base, 200)).reason, 'still');
  // Another camera has its own reference.
  assert.equal(gate.check(frame(base, 0, 'c2')).reason, 'first');
  assert.equal(gate.cameras(), 2);
  // Drift of 1 grey level per frame: each step is under the threshold, the sum is not, because
  // the reference only moves when a frame passes.
  const shifted = (d: number) => Buffer.from(base.map((v) => Math.min(255, v + d)));
  const drift = [1, 2, 3].map((d) => gate.check(frame(shifted(d), 300 + d)).pass);
  assert.deepEqual(drift, [false, true, false]);
  gate.removeCamera('c1');
  assert.equal(gate.cameras(), 1);
  assert.equal(gate.check(frame(base, 500)).reason, 'first');
  gate.close();
  assert.equal(gate.cameras(), 0);
});
