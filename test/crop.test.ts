import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropRgb, createCropper } from '../gateway/crop.ts';
import { encodeJpeg } from '../shared/ffmpeg.ts';
import { systemFfmpeg } from './helpers/city.ts';

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
