// The analysis scheduler with a fake detector: fairness, budget, bounds, superseding, removal.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../shared/log.ts';
import { createAnalyzer, type AnalyzerStats } from '../gateway/analysis/scheduler.ts';
import type { CameraStats } from '../gateway/analysis/slots.ts';
import { createMotionGate } from '../gateway/motion.ts';
import type { Detection } from '../gateway/detect/ultraface.ts';
import type { Frame, PendingFrame } from '../gateway/frame.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const log = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

/** One camera's stats; fails the test if the scheduler reports none for it. */
function camera(s: AnalyzerStats, id: string): CameraStats {
  const c = s.cameras[id];
  assert.ok(c, `no stats for camera ${id}`);
  return c;
}

function frame(cameraId: string, seq: number, rgb = Buffer.alloc(0)): Frame {
  return { cameraId, width: 320, height: 240, rgb, captureTs: Date.now(), seq };
}

/** A detector that takes `ms` per frame and records how many frames it held at once. */
function fakeDetector(capacity: number, ms: number) {
  const d = {
    capacity,
    current: 0,
    maxConcurrent: 0,
    calls: 0,
    fail: false,
    async detect(_f: Frame): Promise<Detection[]> {
      d.calls++;
      d.current++;
      d.maxConcurrent = Math.max(d.maxConcurrent, d.current);
      await sleep(ms);
      d.current--;
      // biome-ignore lint/suspicious/noUnnecessaryConditions: tests set d.fail after construction (Biome misses it)
      if (d.fail) throw new Error('boom');
      return [];
    },
  };
  return d;
}

/** Every frame offered is analysed, dropped for a reason, waiting in a slot, or in flight. */
function assertAccounted(s: AnalyzerStats): void {
  const t = s.total;
  const dropped = Object.values(t.dropped).reduce((a, b) => a + b, 0);
  assert.equal(t.offered, t.analysed + dropped + t.discarded + t.waiting + t.inFlight, JSON.stringify(t));
}

test('overload: 20 cameras at 10 fps, budget 20/s -> each ~1/s, even, bounded, drops counted', async () => {
  const det = fakeDetector(2, 5);
  const seen = new Map<string, number>();
  const a = createAnalyzer(
    { budgetFps: 20 },
    { detector: det, log, onDetections: (id) => seen.set(id, (seen.get(id) ?? 0) + 1) },
  );
  const cams = Array.from({ length: 20 }, (_, i) => `cam-${i}`);
  let seq = 0;
  let maxWaiting = 0;
  const t0 = performance.now();
  const iv = setInterval(() => {
    seq++;
    for (const id of cams) a.offer(frame(id, seq, Buffer.alloc(1024)));
    maxWaiting = Math.max(maxWaiting, a.stats().total.waiting);
  }, 100);
  await sleep(2500);
  clearInterval(iv);
  const elapsedS = (performance.now() - t0) / 1000;
  const s = a.stats();
  await a.close();
  const counts = cams.map((id) => seen.get(id) ?? 0);
  const total = counts.reduce((x, y) => x + y, 0);
  // Budget: 20/s plus the initial burst of 2; timers may be late, never early.
  assert.ok(total <= 20 * elapsedS + 2 + 1, `analysed ${total} in ${elapsedS}s`);
  assert.ok(total >= 20 * elapsedS * 0.8, `analysed only ${total} in ${elapsedS}s`);
  // Round-robin: no camera more than one analysis ahead of another.
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, counts.join(','));
  assert.ok(det.maxConcurrent <= 2);
  assert.ok(maxWaiting <= cams.length);
  assert.ok(s.total.dropped.superseded > s.total.analysed * 5, JSON.stringify(s.total));
  assert.ok(s.total.limitedBy.budget > 0);
  assertAccounted(s);
  assert.equal(camera(s, 'cam-3').offered, seq);
});

test('worker-bound: never more in flight than the detector takes, one frame per camera at a time', async () => {
  const det = fakeDetector(2, 30);
  const a = createAnalyzer({ budgetFps: 10_000 }, { detector: det, log, onDetections: () => undefined });
  for (let round = 0; round < 10; round++) {
    for (const id of ['a', 'b', 'c']) a.offer(frame(id, round));
    assert.ok(a.stats().total.inFlight <= 2);
    await sleep(10);
  }
  await sleep(100);
  const s = a.stats();
  assert.equal(det.maxConcurrent, 2);
  assert.ok(s.total.limitedBy.workers > 0);
  assertAccounted(s);
  // A single camera cannot take both workers: its results would arrive out of order.
  const b = createAnalyzer({ budgetFps: 10_000 }, { detector: det, log, onDetections: () => undefined });
  det.maxConcurrent = 0;
  for (let i = 0; i < 5; i++) b.offer(frame('solo', i));
  assert.equal(b.stats().total.inFlight, 1);
  await a.close();
  await b.close();
});

test('a newer frame supersedes the waiting one; the latest is analysed next', async () => {
  const gate: { release: () => void }[] = [];
  const got: number[] = [];
  const detector = {
    capacity: 1,
    detect: (f: Frame) =>
      new Promise<Detection[]>((resolve) =>
        gate.push({ release: () => resolve(f.seq === 3 ? [{ box: [0.1, 0.1, 0.2, 0.2], score: 0.9 }] : []) }),
      ),
  };
  const a = createAnalyzer(
    { budgetFps: 1000 },
    { detector, log, onDetections: (_id, f, d) => got.push(f.seq * 10 + d.length) },
  );
  a.offer(frame('x', 1));
  a.offer(frame('x', 2));
  a.offer(frame('x', 3));
  assert.equal(gate.length, 1);
  assert.equal(camera(a.stats(), 'x').dropped.superseded, 1);
  gate.shift()?.release();
  await sleep(5);
  assert.equal(gate.length, 1); // frame 3 went in
  gate.shift()?.release();
  await sleep(5);
  assert.deepEqual(got, [10, 31]);
  const s = a.stats();
  assert.equal(camera(s, 'x').analysed, 2);
  assert.equal(camera(s, 'x').withFaces, 1);
  assertAccounted(s);
  await a.close();
});

/** A compressed keyframe whose decoding takes `ms` (or yields nothing); records what happened to it. */
function pending(
  cameraId: string,
  seq: number,
  log: string[],
  ms = 5,
  lost = false,
  urgent = false,
): PendingFrame {
  return {
    cameraId,
    captureTs: Date.now(),
    urgent,
    async load() {
      log.push(`load ${cameraId}/${seq}`);
      await sleep(ms);
      return lost ? undefined : frame(cameraId, seq);
    },
    discard: () => log.push(`discard ${cameraId}/${seq}`),
  };
}

test('decode on demand: a pending frame is decoded on its turn; a newer one replaces it undecoded', async () => {
  const det = fakeDetector(1, 30);
  const analysed: number[] = [];
  const a = createAnalyzer(
    { budgetFps: 1000 },
    { detector: det, log, onDetections: (_id, f) => analysed.push(f.seq) },
  );
  const events: string[] = [];
  // Keyframes every 10 ms against a detector of 30 ms: most are replaced before their turn.
  for (let i = 1; i <= 12; i++) {
    a.offer(pending('c', i, events));
    await sleep(10);
  }
  await sleep(150);
  const s = a.stats();
  assertAccounted(s);
  const loads = events.filter((e) => e.startsWith('load')).length;
  const discards = events.filter((e) => e.startsWith('discard')).length;
  assert.equal(loads + discards, 12, events.join(' '));
  assert.equal(s.total.discarded, discards);
  // Every decoded frame was analysed: nothing decoded in vain.
  assert.equal(s.total.analysed, loads);
  assert.equal(s.total.dropped.superseded, 0);
  assert.ok(discards >= 6, `${discards} of 12 replaced undecoded`);
  assert.equal(analysed.at(-1), 12, 'the newest keyframe is analysed last');
  // A load that yields nothing is counted lost and the camera goes on.
  a.offer(pending('c', 13, events, 5, true));
  await sleep(30);
  a.offer(pending('c', 14, events));
  await sleep(80);
  assert.equal(a.stats().total.dropped.lost, 1);
  assert.equal(analysed.at(-1), 14);
  // Removing the camera discards what waits; closing discards too.
  a.offer(pending('d', 1, events, 50));
  a.offer(pending('d', 2, events));
  a.removeCamera('d');
  assert.ok(events.includes('discard d/2'));
  await a.close();
  a.offer(pending('e', 1, events));
  assert.ok(events.includes('discard e/1'));
});

test('urgent frames (activity on an untracked camera) go before the round robin, and keep their lane when replaced', async () => {
  const det = fakeDetector(1, 20);
  const order: string[] = [];
  const a = createAnalyzer(
    { budgetFps: 1000, maxDecoding: 1 },
    { detector: det, log, onDetections: (id) => order.push(id) },
  );
  const events: string[] = [];
  // One camera in flight; ten tracked cameras wait in the round robin, then two urgent ones come.
  a.offer(pending('busy', 1, events));
  await sleep(5);
  for (let i = 0; i < 10; i++) a.offer(pending(`t${i}`, 1, events));
  a.offer(pending('u1', 1, events, 5, false, true));
  a.offer(pending('u2', 1, events, 5, false, true));
  // u1's urgent keyframe is replaced by a plain one before its turn: it stays urgent.
  a.offer(pending('u1', 2, events));
  await sleep(400);
  assert.equal(order.length, 13, order.join(' '));
  // At most one tracked camera was already being decoded when the urgent ones came.
  assert.ok(order.indexOf('u1') <= 2 && order.indexOf('u2') <= 3, order.join(' '));
  const tracked = order.filter((id) => id.startsWith('t'));
  assert.deepEqual(
    tracked,
    Array.from({ length: 10 }, (_, i) => `t${i}`),
    'the round robin keeps its order',
  );
  assertAccounted(a.stats());
  await a.close();
});

test('removing a camera drops its waiting frame and discards its in-flight result', async () => {
  const gate: (() => void)[] = [];
  const got: string[] = [];
  const detector = { capacity: 1, detect: () => new Promise<Detection[]>((r) => gate.push(() => r([]))) };
  const a = createAnalyzer({ budgetFps: 1000 }, { detector, log, onDetections: (id) => got.push(id) });
  a.offer(frame('gone', 1));
  a.offer(frame('gone', 2));
  a.offer(frame('stays', 1));
  a.removeCamera('gone');
  assert.equal(a.stats().total.dropped.removed, 1);
  assert.equal(a.stats().cameras['gone'], undefined);
  gate.shift()?.();
  await sleep(5);
  gate.shift()?.();
  await sleep(5);
  assert.deepEqual(got, ['stays']);
  await a.close();
});

test('detector failures are counted and analysis goes on', async () => {
  const det = fakeDetector(1, 1);
  det.fail = true;
  const a = createAnalyzer({ budgetFps: 1000 }, { detector: det, log, onDetections: () => undefined });
  a.offer(frame('e', 1));
  await sleep(20);
  det.fail = false;
  a.offer(frame('e', 2));
  await sleep(20);
  const s = a.stats();
  assert.equal(s.total.dropped.error, 1);
  assert.equal(s.total.analysed, 1);
  await a.close();
});

test('the motion gate skips still frames unless a face is being tracked', async () => {
  const det = fakeDetector(1, 1);
  let tracking = false;
  const a = createAnalyzer(
    { budgetFps: 1000 },
    {
      detector: det,
      log,
      onDetections: () => undefined,
      motionGate: createMotionGate({ threshold: 2, forceEveryS: 60 }),
      keepAnalysing: () => tracking,
    },
  );
  const still = Buffer.alloc(320 * 240 * 3, 100);
  for (let i = 0; i < 5; i++) {
    a.offer(frame('m', i, still));
    await sleep(5);
  }
  assert.equal(camera(a.stats(), 'm').analysed, 1);
  assert.equal(camera(a.stats(), 'm').dropped.motion, 4);
  tracking = true;
  for (let i = 5; i < 8; i++) {
    a.offer(frame('m', i, still));
    await sleep(5);
  }
  assert.equal(camera(a.stats(), 'm').analysed, 4);
  assertAccounted(a.stats());
  await a.close();
});

test('end to end on the real model: gate, detector pool, tracker -> one start and one end', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { createDetectorPool } = await import('../gateway/detect/pool.ts');
  const { createTracker } = await import('../gateway/tracker.ts');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      `${root}assets/faces/astronaut.png`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      '320x240',
      '-',
    ],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, `ffmpeg: ${r.error?.message ?? r.stderr.toString()}`);
  const face = r.stdout;
  assert.equal(face.length, 320 * 240 * 3);
  const grey = Buffer.alloc(320 * 240 * 3, 120);
  const detector = await createDetectorPool(
    { modelPath: `${root}assets/models/ultraface-rfb-320.onnx`, threads: 1, scoreThreshold: 0.7 },
    { log },
  );
  const tracker = createTracker({ gatewayId: 'gw', endAfterS: 2.5 });
  const events: string[] = [];
  const a = createAnalyzer(
    { budgetFps: 100 },
    {
      detector,
      log,
      motionGate: createMotionGate({ threshold: 2, forceEveryS: 30 }),
      keepAnalysing: (id) => tracker.hasActive(id),
      onDetections: (id, f, d) =>
        events.push(...tracker.observe(id, f, d).map((e) => `${e.type}@${(Date.parse(e.ts) - 1e12) / 1000}`)),
    },
  );
  const script = [grey, grey, face, face, grey, grey, grey, grey];
  for (const [i, px] of script.entries()) {
    const before = a.stats().total;
    a.offer({
      cameraId: 'door',
      width: 320,
      height: 240,
      rgb: Buffer.from(px),
      captureTs: 1e12 + i * 1000,
      seq: i,
    });
    for (
      let k = 0;
      k < 200 &&
      a.stats().total.analysed + a.stats().total.dropped.motion === before.analysed + before.dropped.motion;
      k++
    )
      await sleep(5);
  }
  const s = camera(a.stats(), 'door');
  await a.close();
  await detector.close();
  // Frame 1 is still (skipped); frames 4.. are analysed although still, because a face is tracked
  // until it ends (unseen 2.5 s after frame 3, decided at frame 6); frame 7 is still again.
  assert.deepEqual(events, ['start@2', 'end@3']);
  assert.equal(s.dropped.motion, 2);
  assert.equal(s.analysed, 6);
  assert.equal(s.withFaces, 2);
});
