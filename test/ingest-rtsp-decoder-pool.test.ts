// The pooled keyframe decoders fed directly: one unit in, one frame out, mapped to its camera;
// a unit that decodes to nothing is a counted loss and the decoder is brought back in step with a
// sync unit, not a restart.
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { parseAnnexB } from '../rtsp/h264.ts';
import { buildKeyframe } from '../gateway/ingest/rtsp/rtsp-client.ts';
import { createDecoderPool, isSyncFrame } from '../gateway/ingest/rtsp/decoder-pool.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const log = createLogger({ level: 'silent', format: 'json' });
const dir = join(tmpdir(), 'facegate-ingest-test');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function keyframes(file: string): Buffer[] {
  const p = parseAnnexB(readFileSync(file));
  return p.units
    .filter((u) => u.idr)
    .map((u) => buildKeyframe(u.nals, p.sps, p.pps))
    .filter((b): b is Buffer => b !== undefined);
}

function darkFile(): string {
  const file = join(dir, 'black-320x180-10-4-10.h264');
  if (!existsSync(file)) {
    const r = spawnSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=320x180:r=10',
      '-t',
      '4',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-bf',
      '0',
      '-g',
      '10',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'h264',
      file,
    ]);
    assert.equal(r.status, 0);
  }
  return file;
}

const mean = (rgb: Buffer): number => {
  let s = 0;
  for (let i = 0; i < rgb.length; i += 7) s += rgb[i]!;
  return s / Math.ceil(rgb.length / 7);
};

test('decoder pool: each unit one frame on its camera; a unit that decodes to nothing is resynced, not restarted', async (t) => {
  const bright = keyframes(makeTestClip(dir, { seconds: 4, gopS: 1 }).file);
  const dark = keyframes(darkFile());
  assert.ok(bright.length >= 4 && dark.length >= 4);
  const got: { cam: string; m: number; len: number; sync: boolean }[] = [];
  const pool = createDecoderPool(
    { ffmpeg: resolveFfmpeg('', '/usr/bin:/bin'), width: 320, height: 240, decoders: 1, auTimeoutMs: 500 },
    {
      onFrame: (cam, rgb) => got.push({ cam, m: mean(rgb), len: rgb.length, sync: isSyncFrame(rgb) }),
      onLost: (cam) => lostCams.push(cam),
    },
    log,
  );
  const lostCams: string[] = [];
  t.after(() => pool.close());
  // SPS/PPS of the bright clip, then an IDR slice of random bytes: ffmpeg gives no picture.
  const sps = bright[0]!.subarray(0, bright[0]!.indexOf(Buffer.from([0, 0, 0, 1, 0x65])));
  const junk = Buffer.concat([
    sps,
    Buffer.from([0, 0, 0, 1, 0x65, 0x00, 0xff, 0x13, 0x37]),
    Buffer.alloc(200, 0xff),
  ]);
  const pid0 = pool.pids()[0];
  const plan: [string, Buffer][] = [
    ['b1', bright[0]!],
    ['d1', dark[0]!],
    ['x', junk],
    ['b2', bright[1]!],
    ['d2', dark[1]!],
    ['b3', bright[2]!],
    ['d3', dark[2]!],
  ];
  for (const [cam, unit] of plan) {
    pool.submit(cam, unit, Date.now());
    await sleep(30);
  }
  const end = Date.now() + 10_000;
  while (got.length < 6 && Date.now() < end) await sleep(50);
  await sleep(300);
  const k = pool.counters();
  assert.deepEqual(
    got.map((g) => g.cam),
    ['b1', 'd1', 'b2', 'd2', 'b3', 'd3'],
    JSON.stringify(k),
  );
  for (const g of got) {
    assert.equal(g.len, 320 * 240 * 3);
    assert.equal(g.sync, false);
    assert.ok(g.cam.startsWith('d') ? g.m < 30 : g.m > 60, `${g.cam} mean ${g.m}`);
  }
  assert.equal(k.submitted, 7);
  assert.equal(k.decoded, 6);
  assert.equal(k.lost, 1, 'the junk unit');
  // Decode on demand waits for a unit's frame: the loss is told, so the camera need not time out.
  assert.deepEqual(lostCams, ['x']);
  assert.ok(k.timeouts + k.desyncs >= 1);
  assert.equal(k.restarts, 0, 'no restart: the sync unit brought it back');
  assert.ok(k.syncs >= 1);
  assert.equal(pool.pids()[0], pid0);
});

test('decoder pool: latest keyframe wins per camera; queues are bounded and counted', async (t) => {
  const bright = keyframes(makeTestClip(dir, { seconds: 4, gopS: 1 }).file);
  const got: string[] = [];
  const pool = createDecoderPool(
    { ffmpeg: resolveFfmpeg('', '/usr/bin:/bin'), width: 320, height: 240, decoders: 1, maxQueue: 2 },
    { onFrame: (cam) => got.push(cam) },
    log,
  );
  t.after(() => pool.close());
  // All at once: the first goes in flight, the rest wait.
  for (const cam of ['a', 'b', 'b', 'c', 'd', 'e']) pool.submit(cam, bright[0]!, Date.now());
  const end = Date.now() + 10_000;
  while (pool.pending() > 0 && Date.now() < end) await sleep(50);
  const k = pool.counters();
  assert.equal(k.superseded, 1, 'second b replaced the first');
  assert.equal(k.queueFull, 2, 'd and e found the queue (2) full');
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.equal(k.submitted, k.decoded + k.superseded + k.queueFull + k.lost + k.forgotten + pool.pending());
});
