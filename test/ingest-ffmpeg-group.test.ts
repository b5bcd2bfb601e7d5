// One ffmpeg process, several cameras, against a real RTSP server (GStreamer, see helpers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg, type FfmpegBinary } from '../shared/ffmpeg.ts';
import { createLogger } from '../shared/log.ts';
import { startGroup, type ExitInfo } from '../gateway/ingest/ffmpeg/group.ts';
import { decoderCaps, parseMode, defaultArgsOptions } from '../gateway/ingest/ffmpeg/args.ts';
import { startGstPeer } from './helpers/decode-gst-peer.ts';
import { needs } from './helpers/tools.ts';

const log = createLogger({ level: 'silent', format: 'json' });
const BUNDLED = fileURLToPath(new URL('../node_modules/@ffmpeg-installer/linux-x64/ffmpeg', import.meta.url));
const gst = needs('gst-rtsp-server-python', 'gstreamer', 'ffmpeg');

async function runGroup(bin: FfmpegBinary, urls: string[], ms: number) {
  const counts = urls.map(() => 0);
  const sizes = new Set<number>();
  let exit: ExitInfo | undefined;
  const g = startGroup(
    {
      bin,
      caps: decoderCaps(bin),
      args: { ...defaultArgsOptions, mode: parseMode('keyframes'), width: 320, height: 240 },
      cameras: urls.map((url, i) => ({ id: `c${i}`, url })),
      stderrLines: 20,
      killTimeoutMs: 2000,
    },
    {
      onFrame: (i, rgb) => {
        counts[i] = (counts[i] ?? 0) + 1;
        sizes.add(rgb.length);
      },
      onCameraEnd: () => {},
      onExit: (x) => (exit = x),
    },
    log,
  );
  await new Promise((r) => setTimeout(r, ms));
  const stillRunning = !g.exited();
  await g.close();
  return { counts, sizes, exit, stillRunning };
}

for (const [name, path] of [
  ['system ffmpeg', ''],
  ['bundled 2018 static ffmpeg', BUNDLED],
] as const) {
  test(`group (${name}): 3 cameras in one process deliver exact 320x240 RGB frames at the keyframe rate`, {
    ...gst,
  }, async (t) => {
    const peer = await startGstPeer({ cameras: 3 });
    t.after(() => peer.close());
    const bin = resolveFfmpeg(path, '/usr/bin:/bin');
    const r = await runGroup(bin, [peer.url(0), peer.url(1), peer.url(2)], 7000);
    assert.ok(r.stillRunning, `ffmpeg exited early: ${JSON.stringify(r.exit)}`);
    assert.deepEqual([...r.sizes], [320 * 240 * 3]);
    // A keyframe a second; startup takes ~0.5 s per input with GStreamer, so >= 3 of ~5.
    for (const c of r.counts) assert.ok(c >= 3 && c <= 8, `frames per camera ${r.counts}`);
  });
}

test('group: a wrong password fails the whole process, and stderr names the camera', gst, async (t) => {
  const peer = await startGstPeer({ cameras: 1 });
  t.after(() => peer.close());
  const bin = resolveFfmpeg('', '/usr/bin:/bin');
  const bad = peer.secureUrl('user', 'wrong');
  const r = await runGroup(bin, [peer.url(0), bad], 4000);
  assert.equal(r.stillRunning, false);
  assert.ok(
    r.exit?.stderr.some((l) => l.startsWith(`${bad}: `) && /401/.test(l)),
    JSON.stringify(r.exit),
  );
});
