// Real clients (ffprobe, ffmpeg, GStreamer) and raw requests against a live server on port 0.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { rawExchange } from '../simulator/rtsp/load-reader.ts';
import { run } from './helpers/net.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg', 'gstreamer');

const log = createLogger({ level: 'silent', format: 'json' });
const clip = makeTestClip(join(tmpdir(), 'facegate-rtsp-test'), { seconds: 4, gopS: 1 });
const resolve = (id: string): { clip: number; phaseS: number } | undefined =>
  /^\d{6}$/.test(id) && Number(id) > 0 && Number(id) <= 1000
    ? { clip: 0, phaseS: Number(id) * 0.73 }
    : undefined;

let open: RtspServer;
let openPort = 0;
let authed: RtspServer;
let authPort = 0;

before(async () => {
  open = createRtspServer({ host: '127.0.0.1', port: 0, clips: [clip], resolve, maxSessions: 4 }, { log });
  openPort = (await open.listen()).port;
  authed = createRtspServer(
    { host: '127.0.0.1', port: 0, clips: [clip], resolve, auth: { username: 'admin', password: 's3cret' } },
    { log },
  );
  authPort = (await authed.listen()).port;
});
after(async () => {
  await open.close();
  await authed.close();
});

const url = (port: number, id: string, creds = ''): string => `rtsp://${creds}127.0.0.1:${port}/cam/${id}`;

test('ffprobe sees h264 640x360 at 10 fps', async () => {
  const r = await run('ffprobe', [
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-show_streams',
    '-of',
    'json',
    url(openPort, '000001'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = (
    JSON.parse(r.stdout) as {
      streams: { codec_name: string; width: number; height: number; r_frame_rate: string }[];
    }
  ).streams[0];
  assert.equal(s?.codec_name, 'h264');
  assert.equal(s?.width, 640);
  assert.equal(s?.height, 360);
  assert.equal(s?.r_frame_rate, '10/1');
});

test('ffmpeg decodes 10 s with no errors', async () => {
  const r = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      url(openPort, '000002'),
      '-t',
      '10',
      '-f',
      'null',
      '-',
    ],
    40_000,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim(), '');
  const s = open.stats();
  assert.ok(s.framesSent >= 100, `frames sent ${s.framesSent}`);
  assert.equal(s.framesDropped, 0);
});

/**
 * gst-launch reached EOS: fakesink took its num-buffers. Its exit code is not the verdict: on a busy
 * machine rtspsrc's PAUSE after EOS can find the session already dropped as a slow reader (EOF).
 */
function assertGstPlayed(r: { code: number | null; stdout: string; stderr: string }): void {
  assert.match(r.stdout, /Got EOS from element "pipeline0"/, `no EOS: ${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Unauthorized|401|Not Found/, r.stderr);
}

test('GStreamer rtspsrc plays (TCP)', async () => {
  const r = await run(
    'gst-launch-1.0',
    [
      'rtspsrc',
      `location=${url(openPort, '000003')}`,
      'protocols=tcp',
      '!',
      'rtph264depay',
      '!',
      'h264parse',
      '!',
      'avdec_h264',
      '!',
      'fakesink',
      'num-buffers=25',
    ],
    30_000,
  );
  assertGstPlayed(r);
});

test('ffmpeg without -rtsp_transport falls back from UDP (461) to TCP', async () => {
  const r = await run('ffprobe', ['-v', 'error', '-show_streams', url(openPort, '000004')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /codec_name=h264/);
});

test('digest: right password plays, wrong password gets 401', async () => {
  const ok = await run('ffprobe', [
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-show_streams',
    url(authPort, '000005', 'admin:s3cret@'),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /width=640/);
  const bad = await run('ffprobe', [
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-show_streams',
    url(authPort, '000005', 'admin:wrong@'),
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /401|Unauthorized/);
  const raw = await rawExchange(
    '127.0.0.1',
    authPort,
    `DESCRIBE ${url(authPort, '000005')} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
    500,
  );
  assert.match(raw, /^RTSP\/1\.0 401 Unauthorized\r\nCSeq: 1\r\n/);
  assert.match(raw, /WWW-Authenticate: Digest realm="facegate", nonce="[0-9a-f]+", algorithm=MD5/);
  // RFC 7616 3.7: the strongest first; ffmpeg and GStreamer above answered the MD5 one.
  assert.match(
    raw,
    /WWW-Authenticate: Digest realm="facegate", nonce="[0-9a-f]+", algorithm=SHA-256, qop="auth"\r\nWWW-Authenticate: Digest [^\r]*algorithm=MD5\r\n/,
  );
  const gst = await run(
    'gst-launch-1.0',
    [
      'rtspsrc',
      `location=${url(authPort, '000006')}`,
      'user-id=admin',
      'user-pw=s3cret',
      'protocols=tcp',
      '!',
      'rtph264depay',
      '!',
      'fakesink',
      'num-buffers=5',
    ],
    20_000,
  );
  assertGstPlayed(gst);
});

test('OPTIONS, 404 for an unknown camera, 400 and close for garbage', async () => {
  const opts = await rawExchange('127.0.0.1', openPort, 'OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n', 300);
  assert.match(opts, /^RTSP\/1\.0 200 OK\r\nCSeq: 7\r\n/);
  assert.match(opts, /Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER/);
  const nf = await rawExchange(
    '127.0.0.1',
    openPort,
    `DESCRIBE ${url(openPort, '999999')} RTSP/1.0\r\nCSeq: 2\r\n\r\n`,
    300,
  );
  assert.match(nf, /^RTSP\/1\.0 404 Not Found/);
  const t0 = Date.now();
  const bad = await rawExchange('127.0.0.1', openPort, 'this is not rtsp\r\n\r\n', 3000);
  assert.match(bad, /^RTSP\/1\.0 400 Bad Request\r\n/);
  assert.ok(Date.now() - t0 < 2500, 'the server closed the connection');
});

test('SETUP over the session limit answers 453; PLAY replies with RTP-Info and ignores Range', async () => {
  const sock = connect({ host: '127.0.0.1', port: openPort });
  const text: string[] = [];
  sock.on('data', (d: Buffer) => text.push(d.toString('latin1')));
  await new Promise((r) => sock.once('connect', r));
  const setup = (cseq: number): string =>
    `SETUP ${url(openPort, '000009')}/trackID=0 RTSP/1.0\r\nCSeq: ${cseq}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`;
  sock.write(setup(1) + setup(2) + setup(3) + setup(4) + setup(5));
  await new Promise((r) => setTimeout(r, 300));
  const all = text.join('');
  assert.equal(all.match(/ 200 OK/g)?.length, 4);
  assert.match(all, /RTSP\/1\.0 453 Not Enough Bandwidth\r\nCSeq: 5/);
  const session = /Session: ([0-9A-F]+);timeout=60/.exec(all)?.[1];
  assert.ok(session);
  text.length = 0;
  sock.write(
    `PLAY ${url(openPort, '000009')} RTSP/1.0\r\nCSeq: 6\r\nSession: ${session}\r\nRange: npt=30.000-\r\n\r\n`,
  );
  await new Promise((r) => setTimeout(r, 200));
  const play = text.join('');
  assert.match(play, /^RTSP\/1\.0 200 OK\r\nCSeq: 6\r\n/);
  assert.match(play, /Range: npt=now-/);
  assert.match(play, /RTP-Info: url=rtsp:\/\/127\.0\.0\.1:\d+\/cam\/000009\/trackID=0;seq=\d+;rtptime=\d+/);
  assert.equal(open.stats().perCamera['000009'], 4);
  sock.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(open.stats().perCamera['000009'], undefined);
});
