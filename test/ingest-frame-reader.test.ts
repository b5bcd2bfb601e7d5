import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createFrameReader } from '../gateway/ingest/frame-reader.ts';

test('frame reader: random chunking yields exactly the frames written, no loss, no extra', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 0, max: 12 }),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 63 }),
      (frameBytes, nFrames, cuts, tailBytes) => {
        const tail = tailBytes % frameBytes;
        const total = frameBytes * nFrames + tail;
        const stream = Buffer.alloc(total);
        for (let i = 0; i < total; i++) stream[i] = ((i * 7 + i / frameBytes) | 0) & 0xff;
        const got: Buffer[] = [];
        const r = createFrameReader(frameBytes, (f) => got.push(f));
        let off = 0;
        let k = 0;
        while (off < total) {
          const len = Math.min(cuts[k++ % cuts.length] ?? 1, total - off);
          r.push(stream.subarray(off, off + len));
          off += len;
        }
        assert.equal(got.length, nFrames);
        assert.equal(r.frames(), nFrames);
        assert.equal(r.pending(), tail);
        got.forEach((f, i) => {
          assert.equal(f.length, frameBytes);
          assert.ok(f.equals(stream.subarray(i * frameBytes, (i + 1) * frameBytes)));
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('frame reader: delivered frames are owned, not views of the chunk', () => {
  const got: Buffer[] = [];
  const r = createFrameReader(4, (f) => got.push(f));
  const chunk = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  r.push(chunk);
  chunk.fill(0);
  assert.deepEqual(
    got.map((b) => [...b]),
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ],
  );
});

test('frame reader: rejects a bad frame size', () => {
  assert.throws(() => createFrameReader(0, () => {}), RangeError);
});

test('frame reader: a frame handed back (true) is refilled, a kept one never', () => {
  const seen: Buffer[] = [];
  const copies: number[][] = [];
  // Keep every third frame; hand the others back.
  const r = createFrameReader(3, (f) => {
    seen.push(f);
    copies.push([...f]);
    return seen.length % 3 !== 0;
  });
  const stream = Buffer.from(Array.from({ length: 3 * 9 }, (_, i) => i));
  for (let off = 0; off < stream.length; off += 2) r.push(stream.subarray(off, off + 2));
  assert.equal(r.frames(), 9);
  for (const [i, c] of copies.entries()) assert.deepEqual(c, [3 * i, 3 * i + 1, 3 * i + 2]);
  // The kept frames (3rd, 6th, 9th) still hold their bytes and were never handed out again.
  for (const i of [2, 5, 8]) {
    assert.deepEqual([...seen[i]!], copies[i]);
    assert.ok(!seen.slice(i + 1).includes(seen[i]!));
  }
  // Handed-back buffers were reused: fewer distinct buffers than frames.
  assert.ok(new Set(seen).size < 9);
});
