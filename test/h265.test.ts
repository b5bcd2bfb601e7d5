// H.265 end to end below the gateway: Annex-B parsing and RTP per RFC 7798 on clips from the real
// libx265, interop of the simulator's H.265 cameras with ffprobe, ffmpeg and GStreamer, and the
// rtsp ingest decoding H.264 and H.265 cameras side by side, each frame on its own camera.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { createLogger } from '../shared/log.ts';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { encoderOptions } from '../simulator/scenes/encoders.ts';
import { HEVC_FU, HEVC_PPS, HEVC_SPS, HEVC_VPS, hevcType, isIrap, parseHevc } from '../rtsp/h265.ts';
import { createH265Depacketizer, packetizeHevcUnit } from '../rtsp/rtph265.ts';
import { feedUnit, unitNals } from './helpers/rtp.ts';
import { clipFromBuffer } from '../simulator/rtsp/clip.ts';
import { buildSdp } from '../simulator/rtsp/describe.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { buildHevcKeyframe } from '../gateway/ingest/rtsp/hevc-keyframe.ts';
import { parseSdp } from '../gateway/ingest/rtsp/rtsp-client.ts';
import { createRtspIngest } from '../gateway/ingest/rtsp/supervisor.ts';
import type { Frame } from '../gateway/frame.ts';

const run = promisify(execFile);
const log = createLogger({ level: 'silent', format: 'json' });
const dir = join(tmpdir(), 'facegate-h265-test');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Fixture {
  index: number;
  file: string;
  width: number;
  height: number;
  fps: number;
  codec: 'h264' | 'h265';
}

/** A clip encoded exactly as the scene renderer encodes (encoderOptions), from a lavfi source. */
function clip(index: number, codec: 'h264' | 'h265', src: string, w: number, h: number): Fixture {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${src.replace(/\W+/g, '-')}-${w}x${h}.${codec}`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    const r = spawnSync(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `${src}:s=${w}x${h}:r=10`],
        ...['-frames:v', '40', ...encoderOptions(codec, 10), '-f', codec === 'h265' ? 'hevc' : 'h264', tmp],
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    renameSync(tmp, file);
  }
  return { index, file, width: w, height: h, fps: 10, codec };
}

const bright265 = clip(0, 'h265', 'testsrc=d=10', 640, 360);
const dark265 = clip(1, 'h265', 'color=c=black', 320, 180);
const bright264 = clip(2, 'h264', 'testsrc=d=10', 640, 360);
let server: RtspServer;
let port = 0;
/** Camera ids: 'h' + digit shows bright H.265, 'd' dark H.265, 'a' bright H.264. */
const clipOf = (cam: string): number => (cam.startsWith('d') ? 1 : cam.startsWith('a') ? 2 : 0);
const url = (cam: string): string => `rtsp://127.0.0.1:${port}/cam/${cam}`;

before(async () => {
  server = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [bright265, dark265, bright264],
      resolve: (cam) => ({ clip: clipOf(cam), phaseS: (cam.charCodeAt(cam.length - 1) % 10) * 0.1 }),
    },
    { log },
  );
  port = (await server.listen()).port;
});
after(() => server.close());

test('h265: access units from libx265, IRAP every GOP; RTP (single NAL, FU) round trip restores every NAL', () => {
  const data = readFileSync(bright265.file);
  const p = parseHevc(data);
  assert.equal(p.units.length, 40);
  assert.deepEqual(
    p.units.map((u, i) => [i, u.idr]).filter(([, idr]) => idr),
    [0, 10, 20, 30].map((i) => [i, true]),
  );
  assert.deepEqual([hevcType(p.vps), hevcType(p.sps), hevcType(p.pps)], [HEVC_VPS, HEVC_SPS, HEVC_PPS]);
  let fus = 0;
  for (const u of p.units) {
    const f = packetizeHevcUnit(u, [p.vps, p.sps, p.pps], 1200);
    assert.ok(f.payloads.every((x) => x.length <= 1200));
    for (const x of f.payloads) if (hevcType(x) === HEVC_FU) fus++;
    const nals = unitNals(createH265Depacketizer(), f.payloads);
    // RFC 7798: VPS, SPS, PPS go in front of every IRAP picture.
    const want = u.idr ? [p.vps, p.sps, p.pps, ...u.nals] : u.nals;
    assert.deepEqual(nals, want);
    if (u.idr) {
      const key = buildHevcKeyframe(nals, {});
      assert.ok(key, 'an IRAP unit with its own parameter sets is a keyframe');
      // Out-of-band parameter sets fill in when the unit lacks them.
      assert.ok(buildHevcKeyframe(u.nals, { vps: p.vps, sps: p.sps, pps: p.pps }));
      assert.equal(buildHevcKeyframe(u.nals, {}), undefined);
    } else assert.equal(buildHevcKeyframe(nals, p), undefined, 'a P picture is not a keyframe');
  }
  assert.ok(fus > 0, 'the IRAP pictures need fragmentation units');
  // The SDP carries the parameter sets, and the gateway's SDP parser reads them back.
  const loaded = clipFromBuffer(bright265, data);
  const sdp = buildSdp(loaded, '000001', '127.0.0.1');
  assert.match(sdp, /a=rtpmap:96 H265\/90000/);
  const info = parseSdp(sdp, 'rtsp://127.0.0.1/cam/000001/');
  assert.equal(info.codec, 'h265');
  assert.deepEqual([info.vps, info.sps, info.pps], [p.vps, p.sps, p.pps]);
  assert.ok(isIrap(hevcType(p.units[0]!.nals.find((n) => hevcType(n) < 32)!)));
});

test('h265: the depacketizer and the keyframe builder never throw, whatever the payloads (property)', () => {
  const payload = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 40 }),
    // FU and AP headers with arbitrary bodies: the cases with inner structure.
    fc
      .tuple(fc.constantFrom(HEVC_FU, 48), fc.uint8Array({ minLength: 0, maxLength: 40 }))
      .map(([t, b]) => Uint8Array.from([t << 1, 1, ...b])),
  );
  fc.assert(
    fc.property(fc.array(payload, { maxLength: 30 }), (ps) => {
      const nals = feedUnit(
        createH265Depacketizer(),
        ps.map((x) => Buffer.from(x)),
      ).flatMap((r) => (r.kind === 'au' ? r.nals : []));
      for (const n of nals) assert.ok(Buffer.isBuffer(n));
      const key = buildHevcKeyframe(nals, {});
      if (key) assert.ok(key.subarray(0, 4).equals(Buffer.from([0, 0, 0, 1])));
    }),
    { numRuns: 2000 },
  );
});

test('parseSdp: any H265 media description yields a codec and parameter sets or none, never a throw (property)', () => {
  const b64 = fc.stringMatching(/^[A-Za-z0-9+/=]{0,24}$/);
  fc.assert(
    fc.property(b64, b64, b64, fc.string({ maxLength: 40 }), (v, s2, p2, junk) => {
      const sdp = [
        'v=0',
        'm=video 0 RTP/AVP 96',
        'a=rtpmap:96 H265/90000',
        `a=fmtp:96 sprop-vps=${v};sprop-sps=${s2};${junk};sprop-pps=${p2}`,
        'a=control:trackID=0',
      ].join('\r\n');
      const info = parseSdp(sdp, 'rtsp://h/cam/1/');
      assert.equal(info.codec, 'h265');
      for (const k of ['vps', 'sps', 'pps'] as const) assert.ok(info[k] === undefined || info[k].length >= 2);
    }),
    { numRuns: 1000 },
  );
});

test('h265 interop: ffprobe, ffmpeg and GStreamer read an H.265 camera of the simulator', async () => {
  const u = url('h1');
  const probe = await run('ffprobe', [
    ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v'],
    ...['-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', u],
  ]);
  assert.equal(probe.stdout.trim(), 'hevc,640,360');
  // Every frame decodes without a single error line (a broken FU or a missing parameter set would say so).
  const dec = await run('ffmpeg', [
    ...['-v', 'error', '-rtsp_transport', 'tcp', '-i', u, '-frames:v', '25', '-f', 'null', '-'],
  ]);
  assert.equal(dec.stderr.trim(), '');
  const gst = await run(
    'gst-launch-1.0',
    [
      ...['-q', 'rtspsrc', `location=${u}`, 'protocols=tcp', '!', 'rtph265depay', '!', 'h265parse'],
      ...['!', 'avdec_h265', '!', 'fakesink', 'num-buffers=25'],
    ],
    { timeout: 60_000 },
  );
  assert.doesNotMatch(gst.stderr, /ERROR/);
});

/** Mean of all RGB bytes: ~16 for black, ~100+ for testsrc. */
function mean(rgb: Buffer): number {
  let s = 0;
  for (let i = 0; i < rgb.length; i += 7) s += rgb[i]!;
  return s / Math.ceil(rgb.length / 7);
}

test('rtsp ingest: H.264 and H.265 cameras side by side, keyframe rate on each, every frame on its own camera', async (t) => {
  const frames = new Map<string, Frame[]>();
  const wrong: string[] = [];
  const sup = createRtspIngest(
    {
      mode: 'keyframes',
      camerasPerDecoder: 8,
      stallS: 3,
      ffmpeg: resolveFfmpeg('', '/usr/bin:/bin'),
      width: 320,
      height: 240,
      killTimeoutMs: 1000,
    },
    {
      log,
      onFrame: (f) => {
        const m = mean(f.rgb);
        if (f.cameraId.startsWith('d') ? m > 30 : m < 60)
          wrong.push(`${f.cameraId} #${f.seq} mean ${m.toFixed(1)}`);
        frames.set(f.cameraId, [...(frames.get(f.cameraId) ?? []), f]);
      },
      onStatus: () => undefined,
    },
  );
  t.after(() => sup.close());
  const cams = ['h1', 'h2', 'd1', 'd2', 'a1', 'a2'];
  sup.setCameras(cams.map((c) => ({ id: c, url: url(c) })));
  const end = Date.now() + 20_000;
  while (!cams.every((c) => (frames.get(c)?.length ?? 0) >= 2)) {
    if (Date.now() > end) throw new Error(`frames: ${cams.map((c) => frames.get(c)?.length ?? 0).join(',')}`);
    await sleep(100);
  }
  const before = cams.map((c) => frames.get(c)?.length ?? 0);
  await sleep(5000);
  const rates = cams.map((c, i) => ((frames.get(c)?.length ?? 0) - (before[i] ?? 0)) / 5);
  for (const r of rates) assert.ok(r >= 0.6 && r <= 1.4, `keyframes per second ${rates.join(', ')}`);
  assert.deepEqual(wrong, [], 'every frame matches its camera');
  const procs = sup.stats().processes;
  assert.equal(procs.length, 2, 'one decoder per codec');
  const k = sup.counters();
  assert.equal(k.desyncs, 0);
  assert.equal(k.timeouts, 0);
  assert.ok(k.rtp.keyframes >= k.decoded && k.decoded > 0, JSON.stringify(k));
});
