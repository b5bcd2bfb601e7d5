import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropRgb, createCropper, createCropStage } from '../gateway/crop.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import { encodeJpeg } from '../shared/ffmpeg.ts';
import { systemFfmpeg } from './helpers/city.ts';
import { waitFor } from './helpers/net.ts';

/** Width and height from a JPEG's SOF marker. */
function jpegSize(buf: Buffer): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1]!;
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3)
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  return undefined;
}

test('cropRgb copies the box with its margin, clipped to the frame, at even sizes', () => {
  const w = 8;
  const h = 6;
  const rgb = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb[i * 3] = i; // red = pixel index
  const c = cropRgb(rgb, w, h, [0.25, 0.5, 0.5, 0.5], 0);
  assert.deepEqual([c.width, c.height], [4, 2]);
  assert.deepEqual([c.rgb[0], c.rgb[3], c.rgb[4 * 3]], [3 * 8 + 2, 3 * 8 + 3, 4 * 8 + 2]);
  const edge = cropRgb(rgb, w, h, [0.9, 0.9, 0.5, 0.5], 0.25);
  assert.ok(edge.width >= 2 && edge.height >= 2 && edge.width <= w && edge.height <= h);
});

test('crops encode to real JPEGs of the crop size; concurrent crops beyond the bound are skipped', async () => {
  const bin = systemFfmpeg();
  const w = 320;
  const h = 240;
  const rgb = Buffer.alloc(w * h * 3, 128);
  const cropper = createCropper((b, cw, ch) => encodeJpeg(bin, b, cw, ch), 1);
  const [a, b] = await Promise.all([
    cropper.crop(rgb, w, h, [0.4, 0.3, 0.2, 0.3]),
    cropper.crop(rgb, w, h, [0.1, 0.1, 0.1, 0.1]),
  ]);
  assert.ok(a);
  assert.equal(b, undefined);
  const jpeg = Buffer.from(a, 'base64');
  assert.deepEqual([jpeg[0], jpeg[1]], [0xff, 0xd8]);
  const c = cropRgb(rgb, w, h, [0.4, 0.3, 0.2, 0.3]);
  assert.deepEqual(jpegSize(jpeg), { width: c.width, height: c.height });
  assert.deepEqual(cropper.stats(), { made: 1, skipped: 1, failed: 0 });
});

function ev(eventId: string, type: FaceEvent['type']): FaceEvent {
  return {
    v: 1,
    type,
    eventId,
    trackId: 1,
    cameraId: 'cam-1',
    gatewayId: 'gw',
    ts: new Date().toISOString(),
    box: [0.4, 0.3, 0.2, 0.3],
    score: 0.9,
    frame: { width: 320, height: 240 },
  };
}

test('crop stage: a face end never overtakes its start while the crop is encoded; drain sends what waits', async () => {
  const bin = systemFfmpeg();
  const frame = { rgb: Buffer.alloc(320 * 240 * 3, 90), width: 320, height: 240 };
  const cropper = createCropper((b, w, h) => encodeJpeg(bin, b, w, h), 2);
  const sent: FaceEvent[] = [];
  const stage = createCropStage(cropper, 3600, (evs) => sent.push(...evs));
  const keys = (): string[] => sent.map((e) => `${e.eventId}:${e.type}`);

  // Face a starts (its crop takes an ffmpeg run) and ends at once, as a one-frame track does on
  // shutdown; face b's start comes without a frame (no crop) and goes straight through.
  stage.push([ev('a', 'start')], frame);
  stage.push([ev('a', 'end'), ev('b', 'start')]);
  assert.deepEqual(keys(), ['b:start']);
  assert.equal(stage.waiting(), 1);
  await stage.drain(10_000);
  assert.deepEqual(keys(), ['b:start', 'a:start', 'a:end']);
  assert.deepEqual(Buffer.from(sent[1]?.crop ?? '', 'base64').subarray(0, 2), Buffer.from([0xff, 0xd8]));

  // At the deadline a start goes without its crop, its end right behind; the late crop adds nothing.
  stage.push([ev('c', 'start')], frame);
  stage.push([ev('c', 'update'), ev('c', 'end')]);
  await stage.drain(1);
  assert.deepEqual(keys().slice(3), ['c:start', 'c:update', 'c:end']);
  assert.equal(sent[3]?.crop, undefined);
  await waitFor(() => cropper.stats().made === 2, 10_000, 'the late crop');
  assert.equal(sent.length, 6);
  assert.equal(stage.waiting(), 0);
});

test('crop stage without a cropper passes events through in order', () => {
  const sent: FaceEvent[] = [];
  const stage = createCropStage(undefined, 3600, (evs) => sent.push(...evs));
  const frame = { rgb: Buffer.alloc(12), width: 2, height: 2 };
  stage.push([ev('a', 'start'), ev('a', 'end')], frame);
  assert.deepEqual(
    sent.map((e) => e.type),
    ['start', 'end'],
  );
});
