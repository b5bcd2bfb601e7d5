// Catch-up on onset (gateway/ingest): a grey, grainy scene where a bright box starts moving 0.35 s
// after a keyframe. With the activity gate the still keyframes are skipped; the onset makes the
// ingest decode that GOP so far (IDR and the P pictures since) in the shared decoder, and the frame
// it delivers is the newest picture (box in view), not the keyframe (no box), before the next keyframe.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../shared/log.ts';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { createRtspIngest } from '../gateway/ingest/rtsp/supervisor.ts';
import type { Frame } from '../gateway/frame.ts';
import { testNeeding } from './helpers/tools.ts';
import { waitFor } from './helpers/net.ts';

const test = testNeeding('ffmpeg');
const log = createLogger({ level: 'silent', format: 'json' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ONSET_S = 12.35;
const SECONDS = 16;

/** 16 s at 10 fps, a keyframe a second: grey with grain; from 12.35 s a testsrc box crosses it. */
function onsetClip(dir: string): { index: number; file: string; width: number; height: number; fps: number } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `onset-320x240-${SECONDS}-${ONSET_S}-crf25.h264`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    const graph = `[0:v]noise=alls=7:allf=t+u[bg];[bg][1:v]overlay=x='40+(t-${ONSET_S})*60':y=80:enable='gte(t,${ONSET_S})'[v]`;
    const r = spawnSync(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 'lavfi', '-i', `color=c=gray:s=320x240:r=10:d=${SECONDS}`],
        ...['-f', 'lavfi', '-i', `testsrc=s=80x80:r=10:d=${SECONDS}`],
        ...['-filter_complex', graph, '-map', '[v]'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '10', '-keyint_min', '10'],
        // As the simulator's encoder (simulator/scenes/encoders.ts): the grain costs a few KB/s.
        ...['-crf', '25', '-maxrate', '600k', '-bufsize', '1200k'],
        ...['-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-threads', '1', '-f', 'h264', tmp],
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    spawnSync('mv', [tmp, file]);
  }
  return { index: 0, file, width: 320, height: 240, fps: 10 };
}

/**
 * Mean colour saturation (max - min of R, G, B) in x 70..110, y 90..150: inside the box from its
 * onset until 12.85 s, grey (low) before it.
 */
function boxSaturation(rgb: Buffer): number {
  let s = 0;
  let n = 0;
  for (let y = 90; y < 150; y++)
    for (let x = 70; x < 110; x++) {
      const i = (y * 320 + x) * 3;
      const r = rgb[i] ?? 0;
      const g = rgb[i + 1] ?? 0;
      const b = rgb[i + 2] ?? 0;
      s += Math.max(r, g, b) - Math.min(r, g, b);
      n++;
    }
  return s / n;
}

let server: RtspServer;
let port = 0;
before(async () => {
  const clip = onsetClip(join(tmpdir(), 'facegate-catchup-test'));
  server = createRtspServer(
    { host: '127.0.0.1', port: 0, clips: [clip], resolve: () => ({ clip: 0, phaseS: 0 }) },
    { log },
  );
  port = (await server.listen()).port;
});
after(() => server.close());

test('activity starting between keyframes: the GOP so far is decoded once and its newest picture delivered', async (t) => {
  const frames: { f: Frame; catchUp: boolean; at: number }[] = [];
  let catchUpNext = false;
  let online = false;
  const sup = createRtspIngest(
    {
      mode: 'keyframes',
      camerasPerDecoder: 8,
      stallS: 10,
      ffmpeg: resolveFfmpeg('', process.env['PATH'] ?? ''),
      width: 320,
      height: 240,
      activity: { enabled: true, forceLookMs: 60_000 },
      catchUpPerS: 5,
    },
    {
      log,
      onFrame: (f) => {
        frames.push({ f, catchUp: catchUpNext, at: Date.now() });
        catchUpNext = false;
      },
      onStatus: (_cam, s) => (online = s === 'online'),
      onCatchUp: (_cam, result) => {
        if (result === 'decoded') catchUpNext = true;
      },
    },
  );
  t.after(() => sup.close());
  sup.setCameras([{ id: 'c1', url: `rtsp://127.0.0.1:${port}/cam/c1` }]);
  await waitFor(() => online, 20_000, 'camera online');
  // Two passes of the clip: the first teaches the baseline wherever the stream started.
  await waitFor(() => sup.counters().catchUp.decoded >= 1 && !catchUpNext, 40_000, 'a catch-up decode');
  await sleep(1500);
  const c = sup.counters();
  t.diagnostic(
    `gate ${JSON.stringify(c.gate)}, catch-up ${JSON.stringify(c.catchUp)}, pool discarded ${c.discarded}`,
  );
  const i = frames.findIndex((x) => x.catchUp);
  const cu = frames[i];
  const next = frames[i + 1];
  assert.ok(cu && next, `frames around the catch-up: ${frames.length}, at ${i}`);
  // The catch-up frame shows the box, so it is a picture after the onset: not the GOP's keyframe
  // (12 s, no box), which is what a decoder fed the whole GOP would give first.
  const sat = boxSaturation(cu.f.rgb);
  const still = frames.map((x) => boxSaturation(x.f.rgb)).sort((a, b) => a - b)[0] ?? 0;
  t.diagnostic(
    `box saturation: catch-up ${sat.toFixed(1)}, all ${frames.map((x) => `${boxSaturation(x.f.rgb).toFixed(0)}${x.catchUp ? '*' : ''}`).join(' ')}`,
  );
  assert.ok(sat > 40 && still < 15, `catch-up ${sat.toFixed(1)}, grey ${still.toFixed(1)}`);
  // It came before the next keyframe's frame (decoded for activity), at least 0.3 s earlier.
  assert.ok(next.f.captureTs - cu.f.captureTs >= 300, `${next.f.captureTs - cu.f.captureTs} ms earlier`);
  // Its pictures before the newest were decoded and thrown away by the pool, not delivered.
  assert.ok(c.discarded >= 2, `pool discarded ${c.discarded}`);
  // The keyframe before the onset was skipped (a catch-up needs that); how many stills came before
  // depends on where in the clip the stream started (one, after the warm-up, on a fresh machine).
  assert.ok(c.gate.still >= 1 && c.gate.activity >= 1, JSON.stringify(c.gate));
  assert.equal(c.catchUp.refused, 0);
});
