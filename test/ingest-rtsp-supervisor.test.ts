// The rtsp ingest (gateway/ingest) against our RTSP simulator: the gateway speaks RTSP itself
// and feeds keyframes to pooled ffmpeg decoders. The key property: every frame reaches the camera
// it came from. Two kinds of clips make that visible: testsrc (bright, colourful) and solid black
// at another resolution, so a frame given to the wrong camera shows in its mean brightness.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import {
  createRtspIngest,
  type RtspIngestOptions,
  type RtspIngest,
} from '../gateway/ingest/rtsp/supervisor.ts';
import type { CameraStatus } from '../gateway/ingest/status.ts';
import type { Frame } from '../gateway/frame.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const log = createLogger({ level: 'silent', format: 'json' });
const dir = join(tmpdir(), 'facegate-ingest-test');
const bright = makeTestClip(dir, { seconds: 4, gopS: 1 });
const dark = blackClip(dir);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let server: RtspServer;
let authServer: RtspServer;
let port = 0;
let authPort = 0;
/** Camera ids starting with 'd' show the black clip, others testsrc. */
const url = (cam: string, p = port, cred = ''): string => `rtsp://${cred}127.0.0.1:${p}/cam/${cam}`;
const isDark = (cam: string): boolean => cam.startsWith('d');

function blackClip(d: string): { index: number; file: string; width: number; height: number; fps: number } {
  mkdirSync(d, { recursive: true });
  const file = join(d, 'black-320x180-10-4-10.h264');
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    const r = spawnSync(
      'ffmpeg',
      [
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
        '-keyint_min',
        '10',
        '-sc_threshold',
        '0',
        '-pix_fmt',
        'yuv420p',
        '-threads',
        '1',
        '-f',
        'h264',
        tmp,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    spawnSync('mv', [tmp, file]);
  }
  return { index: 1, file, width: 320, height: 180, fps: 10 };
}

const resolve = (cam: string): { clip: number; phaseS: number } => ({
  clip: isDark(cam) ? 1 : 0,
  phaseS: (cam.charCodeAt(cam.length - 1) % 10) * 0.1,
});

before(async () => {
  server = createRtspServer({ host: '127.0.0.1', port: 0, clips: [bright, dark], resolve }, { log });
  port = (await server.listen()).port;
  authServer = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [bright, dark],
      resolve,
      auth: { username: 'gate', password: 's3cret' },
    },
    { log },
  );
  authPort = (await authServer.listen()).port;
});
after(async () => {
  await server.close();
  await authServer.close();
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Mean of all RGB bytes: ~0 for the black clip, ~100+ for testsrc. */
function mean(rgb: Buffer): number {
  let s = 0;
  for (let i = 0; i < rgb.length; i += 7) s += rgb[i]!;
  return s / Math.ceil(rgb.length / 7);
}

interface Run {
  sup: RtspIngest;
  frames: Map<string, Frame[]>;
  /** Frames whose brightness does not match their camera's clip. */
  wrong: string[];
  statuses: [string, CameraStatus, string | undefined][];
  count(id: string): number;
  status(id: string): CameraStatus | undefined;
}

function run(extra: Partial<RtspIngestOptions> = {}, skipCheck: readonly string[] = []): Run {
  const frames = new Map<string, Frame[]>();
  const statuses: Run['statuses'] = [];
  const wrong: string[] = [];
  const sup = createRtspIngest(
    {
      mode: 'keyframes',
      camerasPerDecoder: 8,
      stallS: 3,
      ffmpeg: resolveFfmpeg('', '/usr/bin:/bin'),
      width: 320,
      height: 240,
      backoff: { baseMs: 300, maxMs: 2000, unauthorizedMinMs: 30_000 },
      killTimeoutMs: 1000,
      ...extra,
    },
    {
      log,
      onFrame: (f) => {
        const m = mean(f.rgb);
        if (!skipCheck.includes(f.cameraId) && (isDark(f.cameraId) ? m > 30 : m < 60))
          wrong.push(`${f.cameraId} #${f.seq} mean ${m.toFixed(1)}`);
        const l = frames.get(f.cameraId) ?? [];
        if (l.length > 100) l.shift();
        l.push(f);
        frames.set(f.cameraId, l);
      },
      onStatus: (cam, s, d) => statuses.push([cam, s, d]),
    },
  );
  const count = (cid: string): number => sup.stats().cameras.find((c) => c.id === cid)?.frames ?? 0;
  const status = (cid: string): CameraStatus | undefined => statuses.filter(([c]) => c === cid).at(-1)?.[1];
  return { sup, frames, wrong, statuses, count, status };
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function rates(r: Run, cams: readonly string[], ms: number): Promise<number[]> {
  const c0 = cams.map(r.count);
  await sleep(ms);
  return cams.map((c, i) => (r.count(c) - (c0[i] ?? 0)) / (ms / 1000));
}

test('ingest: frames per camera at the keyframe rate, exact size, each on its own camera (two resolutions, one decoder)', async (t) => {
  const r = run();
  t.after(() => r.sup.close());
  const cams = ['b1', 'b2', 'b3', 'd1', 'd2', 'd3'];
  r.sup.setCameras(cams.map((c) => ({ id: c, url: url(c) })));
  await until('all online', () => cams.every((c) => r.status(c) === 'online'), 15_000);
  const rate = await rates(r, cams, 5000);
  for (const x of rate) assert.ok(x >= 0.6 && x <= 1.4, `keyframes per second ${rate.join(', ')}`);
  for (const c of cams) {
    const fs = r.frames.get(c) ?? [];
    assert.ok(fs.length >= 4, `${c}: ${fs.length} frames`);
    for (const f of fs) {
      assert.equal(f.rgb.length, 320 * 240 * 3);
      assert.equal(f.width, 320);
      assert.ok(f.captureTs <= Date.now() && f.captureTs > Date.now() - 60_000);
    }
    assert.ok(
      fs.every((f, i) => i === 0 || f.seq === (fs[i - 1]?.seq ?? 0) + 1),
      'seq increments',
    );
  }
  assert.deepEqual(r.wrong, [], 'every frame matches its camera');
  const st = r.sup.stats();
  assert.equal(st.processes.length, 1, 'one decoder for six cameras');
  assert.ok(st.cameras.every((c) => c.placement === 'group' && c.pid === st.processes[0]?.pid));
  const k = r.sup.counters();
  assert.equal(k.desyncs, 0);
  assert.equal(k.timeouts, 0);
  assert.equal(k.submitted, k.decoded + k.pending, JSON.stringify(k));
  assert.ok(k.rtp.packets > 0 && k.rtp.keyframes >= k.decoded, JSON.stringify(k));
});

test('ingest: Digest auth right, wrong and missing; a closed port and an unknown path are unreachable', async (t) => {
  const r = run();
  t.after(() => r.sup.close());
  const dead = `rtsp://127.0.0.1:${await closedPort()}/cam/x`;
  r.sup.setCameras([
    { id: 'b-ok', url: url('b-ok', authPort, 'gate:s3cret@') },
    { id: 'b-wrong', url: url('b-wrong', authPort, 'gate:nope@') },
    { id: 'b-none', url: url('b-none', authPort) },
    { id: 'dead', url: dead },
    { id: 'b-404', url: `rtsp://127.0.0.1:${port}/nothing/here` },
  ]);
  await until('right password online', () => r.status('b-ok') === 'online', 15_000);
  await until('wrong password unauthorized', () => r.status('b-wrong') === 'unauthorized', 10_000);
  await until('no password unauthorized', () => r.status('b-none') === 'unauthorized', 10_000);
  await until('closed port unreachable', () => r.status('dead') === 'unreachable', 10_000);
  await until('404 unreachable', () => r.status('b-404') === 'unreachable', 10_000);
  assert.deepEqual(r.wrong, []);
  // Wrong credentials back off long (unauthorizedMinMs = 30 s here): once refused, a camera is not
  // asked again within the window, though the ordinary backoff (0.3 to 2 s) would have retried
  // several times by now.
  // biome-ignore lint/suspicious/noUnnecessaryConditions: an index signature can miss (noUncheckedIndexedAccess; biome#11277)
  const unauthorized = (): number => authServer.stats().responses['401'] ?? 0;
  const refused = unauthorized();
  assert.ok(refused >= 2, `401s so far: ${refused}`);
  await new Promise((res) => setTimeout(res, 5000));
  assert.equal(unauthorized(), refused, 'no retry within unauthorizedMinMs');
  for (const id of ['b-wrong', 'b-none']) {
    assert.equal(r.status(id), 'unauthorized', id);
    assert.ok((r.sup.stats().cameras.find((c) => c.id === id)?.restarts ?? 0) <= 1, id);
  }
});

test('ingest: a stalled camera goes offline without costing the others a frame rate', async (t) => {
  const r = run({ stallS: 2 });
  t.after(() => r.sup.close());
  const cams = ['b1', 'd1', 'b2', 'st'];
  t.after(() => server.setFault('st', undefined));
  r.sup.setCameras(cams.map((c) => ({ id: c, url: url(c) })));
  await until('all online', () => cams.every((c) => r.status(c) === 'online'), 15_000);
  server.setFault('st', { kind: 'stall' });
  const good = ['b1', 'd1', 'b2'];
  const rate = await rates(r, good, 4000);
  assert.equal(r.status('st'), 'offline');
  for (const x of rate) assert.ok(x >= 0.6 && x <= 1.4, `others' keyframes per second ${rate.join(', ')}`);
  server.setFault('st', undefined);
  await until('stalled camera back online', () => r.status('st') === 'online', 15_000);
  assert.deepEqual(r.wrong, []);
});

test('ingest: a corrupt camera does not desync the other cameras frame mapping', async (t) => {
  // Every decoder is shared by the corrupt camera and the good ones (one process for all).
  const r = run({ auTimeoutMs: 1000 }, ['bx', 'dx']);
  t.after(() => r.sup.close());
  t.after(() => {
    server.setFault('bx', undefined);
    server.setFault('dx', undefined);
  });
  server.setFault('bx', { kind: 'corrupt', probability: 0.3 });
  server.setFault('dx', { kind: 'corrupt', probability: 0.5 });
  const good = ['b1', 'b2', 'd1', 'd2'];
  r.sup.setCameras([...good, 'bx', 'dx'].map((c) => ({ id: c, url: url(c) })));
  await until('good online', () => good.every((c) => r.status(c) === 'online'), 15_000);
  const rate = await rates(r, good, 10_000);
  const k = r.sup.counters();
  t.diagnostic(
    `rates ${rate.join(', ')}; counters ${JSON.stringify(k)}; corrupt cameras' frames bx=${r.count('bx')} dx=${r.count('dx')}`,
  );
  assert.deepEqual(r.wrong, [], 'no frame of one camera reached another');
  // Every keyframe handed to the pool is a frame or a counted loss.
  assert.equal(
    k.submitted,
    k.decoded + k.superseded + k.queueFull + k.lost + k.forgotten + k.pending,
    JSON.stringify(k),
  );
  // Out-of-step decoders (desyncs) are restarted, never believed: they may happen, wrong frames may not.
  t.diagnostic(
    `decoders ${JSON.stringify(r.sup.stats().processes.map((p) => [p.kind, p.cameras.length, p.generation]))}`,
  );
  for (const x of rate)
    assert.ok(x >= 0.5 && x <= 1.4, `good cameras' keyframes per second ${rate.join(', ')}`);
  for (const c of good) for (const f of r.frames.get(c) ?? []) assert.equal(f.rgb.length, 320 * 240 * 3);
});

test('ingest: a SIGKILLed decoder restarts and frames resume', async (t) => {
  const r = run({ camerasPerDecoder: 2 });
  t.after(() => r.sup.close());
  const cams = ['b1', 'd1', 'b2', 'd2'];
  r.sup.setCameras(cams.map((c) => ({ id: c, url: url(c) })));
  await until('all online', () => cams.every((c) => r.status(c) === 'online'), 15_000);
  assert.equal(r.sup.pids().length, 2, 'two decoders');
  const [victim] = r.sup.pids();
  assert.ok(victim !== undefined);
  const gen0 = r.sup.stats().processes.map((p) => p.generation);
  process.kill(victim, 'SIGKILL');
  await until('decoder replaced', () => r.sup.pids().length === 2 && !r.sup.pids().includes(victim), 10_000);
  const rate = await rates(r, cams, 4000);
  for (const x of rate)
    assert.ok(x >= 0.6 && x <= 1.4, `keyframes per second after the kill ${rate.join(', ')}`);
  assert.ok(
    r.sup.stats().processes.some((p, i) => p.generation > (gen0[i] ?? 0)),
    'generation moved on',
  );
  assert.deepEqual(r.wrong, []);
});

test('ingest: close() is bounded and leaves no decoder behind', async () => {
  const r = run();
  r.sup.setCameras([{ id: 'b1', url: url('b1') }]);
  await until('online', () => r.status('b1') === 'online', 15_000);
  const pids = r.sup.pids();
  const t0 = Date.now();
  await r.sup.close();
  assert.ok(Date.now() - t0 < 4000, `close took ${Date.now() - t0} ms`);
  await sleep(200);
  for (const p of pids) assert.throws(() => process.kill(p, 0), 'decoder gone');
  assert.equal(server.stats().sessions, 0, 'sessions torn down');
});
