// The detector on the real model in real worker threads.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../shared/log.ts';
import { createDetectorPool, type DetectorPool } from '../gateway/detect/pool.ts';
import { decode, iou, nms, toInput, type Box } from '../gateway/detect/ultraface.ts';
import type { Frame } from '../gateway/frame.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const root = fileURLToPath(new URL('..', import.meta.url));
const modelPath = join(root, 'assets/models/ultraface-rfb-320.onnx');
const log = createLogger({
  level: 'warn',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

function rgbOf(file: string, w = 320, h = 240): Buffer {
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', join(root, file), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-'],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, r.stderr?.toString());
  assert.equal(r.stdout.length, w * h * 3);
  return r.stdout;
}

function frameOf(rgb: Buffer, seq = 0): Frame {
  return { cameraId: 'cam-1', width: 320, height: 240, rgb: Buffer.from(rgb), captureTs: Date.now(), seq };
}

function grey(v = 128): Buffer {
  return Buffer.alloc(320 * 240 * 3, v);
}

let pool: DetectorPool;
before(async () => {
  pool = await createDetectorPool({ modelPath, threads: 1, scoreThreshold: 0.7 }, { log });
});
after(() => pool.close());

test('finds the astronaut and the cameraman, nothing in the coffee or a grey frame', async () => {
  const astro = await pool.detect(frameOf(rgbOf('assets/faces/astronaut.png')));
  assert.equal(astro.length, 1);
  assert.ok((astro[0]?.score ?? 0) > 0.95);
  const cam = await pool.detect(frameOf(rgbOf('assets/faces/camera.png')));
  assert.equal(cam.length, 1);
  assert.ok((cam[0]?.score ?? 0) > 0.9);
  assert.deepEqual(await pool.detect(frameOf(rgbOf('assets/negatives/coffee.png'))), []);
  assert.deepEqual(await pool.detect(frameOf(grey())), []);
});

test('a small face pasted into a grey frame is found where it was pasted', async () => {
  const [full] = await pool.detect(frameOf(rgbOf('assets/faces/astronaut.png')));
  assert.ok(full);
  // Paste the whole picture at 128x96 into a 320x240 frame at (176, 120): the face shrinks to ~25 px.
  const pw = 128,
    ph = 96,
    ox = 176,
    oy = 120;
  const small = rgbOf('assets/faces/astronaut.png', pw, ph);
  const canvas = grey(90);
  for (let y = 0; y < ph; y++) small.copy(canvas, ((oy + y) * 320 + ox) * 3, y * pw * 3, (y + 1) * pw * 3);
  const dets = await pool.detect(frameOf(canvas));
  assert.equal(dets.length, 1, JSON.stringify(dets));
  const expected: Box = [
    (ox + full.box[0] * pw) / 320,
    (oy + full.box[1] * ph) / 240,
    (full.box[2] * pw) / 320,
    (full.box[3] * ph) / 240,
  ];
  const got = dets[0]?.box ?? [0, 0, 0, 0];
  assert.ok(iou(got, expected) > 0.5, `box ${got.join(',')} vs expected ${expected.join(',')}`);
  // And not in the mirrored place: the check can fail.
  assert.ok(iou(got, [1 - expected[0] - expected[2], expected[1], expected[2], expected[3]]) < 0.1);
});

test('frame memory travels to the worker and comes back intact', async () => {
  const rgb = rgbOf('assets/faces/camera.png');
  const frame = frameOf(rgb);
  const p = pool.detect(frame);
  assert.equal(frame.rgb.length, 0); // transferred, not copied
  await p;
  assert.equal(frame.rgb.length, rgb.length);
  assert.ok(frame.rgb.equals(rgb));
  // A view into a larger buffer is copied, not transferred: its neighbours stay usable.
  const big = Buffer.alloc(rgb.length + 16);
  rgb.copy(big, 8);
  const view: Frame = { ...frameOf(rgb), rgb: big.subarray(8, 8 + rgb.length) };
  assert.equal((await pool.detect(view)).length, 1);
  assert.equal(big.length, rgb.length + 16);
});

test('refuses bad frames and a missing model', async () => {
  await assert.rejects(pool.detect({ ...frameOf(grey()), rgb: Buffer.alloc(10) }), {
    code: 'DETECTOR_BAD_FRAME',
  });
  await assert.rejects(
    createDetectorPool({ modelPath: join(root, 'nope.onnx'), threads: 1, scoreThreshold: 0.7 }, { log }),
    { code: 'DETECTOR_FAILED' },
  );
  // A file that is not a model: the worker reports it and creation fails instead of respawning.
  await assert.rejects(
    createDetectorPool(
      { modelPath: join(root, 'assets/PROVENANCE.md'), threads: 1, scoreThreshold: 0.7 },
      { log },
    ),
    { code: 'DETECTOR_FAILED' },
  );
});

test('a bounded queue: beyond workers + maxQueue, detect() is refused and counted', async () => {
  const rgb = grey();
  const ps = Array.from({ length: 4 }, (_, i) => pool.detect(frameOf(rgb, i)));
  const settled = await Promise.allSettled(ps);
  const refused = settled.filter((s) => s.status === 'rejected');
  assert.equal(refused.length, 2); // 1 worker + maxQueue 1 (default = threads)
  assert.ok(pool.stats().refused >= 2);
});

test('inference stays off the main thread; timing with 1 and 2 workers', async () => {
  // Only the worker may import onnxruntime-node.
  const dir = join(root, 'gateway');
  const importers = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && /from 'onnxruntime-node'/.test(readFileSync(join(dir, f), 'utf8')),
  );
  assert.deepEqual(importers, [join('detect', 'worker.ts')]);

  const rgb = rgbOf('assets/faces/astronaut.png');
  for (const threads of [1, 2]) {
    const p = await createDetectorPool({ modelPath, threads, scoreThreshold: 0.7 }, { log });
    try {
      const n = 40;
      let ticks = 0;
      const iv = setInterval(() => ticks++, 5);
      const t0 = performance.now();
      let done = 0;
      // Keep every worker busy: one frame in flight per worker.
      await Promise.all(
        Array.from({ length: threads }, async () => {
          while (done < n) {
            done++;
            assert.equal((await p.detect(frameOf(rgb))).length, 1);
          }
        }),
      );
      const wall = performance.now() - t0;
      clearInterval(iv);
      const s = p.stats();
      console.log(
        `threads=${threads}: ${(wall / n).toFixed(2)} ms/frame wall, inference avg ${s.inferenceMs.avg} p95 ${s.inferenceMs.p95} ms`,
      );
      assert.equal(s.completed, n);
      // The event loop kept ticking while frames were analysed.
      assert.ok(ticks >= Math.floor(wall / 5 / 4), `event loop ticked ${ticks} times in ${wall} ms`);
    } finally {
      await p.close();
    }
  }
});

test('post-processing: threshold, NMS, clamping, input normalisation', () => {
  const scores = new Float32Array([0.1, 0.9, 0.2, 0.8, 0.5, 0.5, 0.01, 0.99]);
  const boxes = new Float32Array([
    0.1, 0.1, 0.3, 0.3, 0.11, 0.11, 0.31, 0.31, 0.5, 0.5, 0.6, 0.6, -0.1, 0.6, 0.2, 1.2,
  ]);
  const d = decode(scores, boxes, { scoreThreshold: 0.7 });
  assert.equal(d.length, 2); // the 0.8 box overlaps the 0.9 one; 0.5 is under the threshold
  assert.equal(d[0]?.score.toFixed(2), '0.99');
  assert.deepEqual(
    d[0]?.box.map((v) => +v.toFixed(3)),
    [0, 0.6, 0.2, 0.4],
  );
  assert.equal(
    nms(
      [
        { box: [0, 0, 0.1, 0.1], score: 0.5 },
        { box: [0.5, 0.5, 0.1, 0.1], score: 0.6 },
      ],
      0.3,
    ).length,
    2,
  );
  const px = Buffer.from([255, 127, 0, 0, 0, 0]);
  const inp = toInput(px, 2, 1);
  assert.equal(inp[0], 1);
  assert.equal(inp[320 * 240], 0);
  assert.equal(inp[2 * 320 * 240], -127 / 128);
  assert.equal(inp[319], -127 / 128); // right half stretched from the black pixel
});
