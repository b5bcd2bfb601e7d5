// The decoder supervisor against our RTSP simulator: groups, isolation of bad cameras, restarts.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { createFfmpegIngest, type FfmpegIngestOptions } from '../gateway/ingest/ffmpeg/supervisor.ts';
import type { CameraStatus, Ingest } from '../gateway/ingest/contract.ts';
import type { Frame } from '../gateway/frame.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const log = createLogger({ level: 'silent', format: 'json' });
const clip = makeTestClip(join(tmpdir(), 'facegate-decode-test'), { seconds: 4, gopS: 1 });
const id = (i: number): string => String(i).padStart(6, '0');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let server: RtspServer;
let port = 0;
const url = (i: number): string => `rtsp://127.0.0.1:${port}/cam/${id(i)}`;

before(async () => {
  server = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [clip],
      resolve: (cam) => ({ clip: 0, phaseS: (Number(cam) % 10) * 0.1 }),
    },
    { log },
  );
  port = (await server.listen()).port;
});
after(() => server.close());

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

interface Run {
  sup: Ingest;
  frames: Map<string, Frame[]>;
  statuses: [string, CameraStatus, string | undefined][];
  count(id: string): number;
  status(id: string): CameraStatus | undefined;
}

function run(extra: Partial<FfmpegIngestOptions> = {}): Run {
  const frames = new Map<string, Frame[]>();
  const statuses: Run['statuses'] = [];
  const sup = createFfmpegIngest(
    {
      mode: 'keyframes',
      camerasPerDecoder: 8,
      stallS: 4,
      processStallS: 3,
      regroupS: 2,
      rejoinAfterS: 3,
      ffmpeg: resolveFfmpeg('', '/usr/bin:/bin'),
      width: 320,
      height: 240,
      backoff: { baseMs: 500, maxMs: 3000, unauthorizedMinMs: 30_000 },
      killTimeoutMs: 1000,
      ...extra,
    },
    {
      log,
      onFrame: (f) => {
        const l = frames.get(f.cameraId) ?? [];
        if (l.length > 200) l.shift();
        l.push(f);
        frames.set(f.cameraId, l);
      },
      onStatus: (cam, s, d) => statuses.push([cam, s, d]),
    },
  );
  const count = (cid: string): number => sup.stats().cameras.find((c) => c.id === cid)?.frames ?? 0;
  const status = (cid: string): CameraStatus | undefined => statuses.filter(([c]) => c === cid).at(-1)?.[1];
  return { sup, frames, statuses, count, status };
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('supervisor: a group delivers exact frames at the keyframe rate; a wrong password and a closed port are isolated', async (t) => {
  server.setFault(id(90), { kind: 'wrongPassword' });
  t.after(() => server.setFault(id(90), undefined));
  const dead = `rtsp://127.0.0.1:${await closedPort()}/cam/x`;
  const r = run();
  t.after(() => r.sup.close());
  const good = [1, 2, 3, 4].map(id);
  // Bad cameras first: ffmpeg opens inputs in order, so they fail the whole process.
  r.sup.setCameras([
    { id: 'badpass', url: url(90) },
    { id: 'dead', url: dead },
    ...good.map((g) => ({ id: g, url: url(Number(g)) })),
  ]);
  await until('unauthorized', () => r.status('badpass') === 'unauthorized', 10_000);
  await until('unreachable', () => r.status('dead') === 'unreachable', 10_000);
  await until('good cameras online', () => good.every((g) => r.status(g) === 'online'), 15_000);
  const c0 = good.map(r.count);
  await sleep(5000);
  const rate = good.map((g, i) => (r.count(g) - (c0[i] ?? 0)) / 5);
  for (const x of rate) assert.ok(x >= 0.6 && x <= 1.4, `keyframes per second ${rate}`);
  for (const g of good) for (const f of r.frames.get(g) ?? []) assert.equal(f.rgb.length, 320 * 240 * 3);
  const frames = r.frames.get(good[0] ?? '') ?? [];
  assert.ok(
    frames.every((f, i) => i === 0 || f.seq === (frames[i - 1]?.seq ?? 0) + 1),
    'seq increments',
  );
  const st = r.sup.stats();
  const badpass = st.cameras.find((c) => c.id === 'badpass');
  assert.equal(badpass?.placement, 'quarantine');
  assert.equal(badpass?.restarts, 0, 'wrong credentials back off long');
  assert.equal(st.processes.filter((p) => p.kind === 'group').length, 1);
  assert.deepEqual(
    r.statuses.filter(([c]) => c === 'badpass').map(([, s]) => s),
    ['unauthorized'],
    'status only on change',
  );
});

test('supervisor: a stalled camera is isolated within stallS + a few seconds, the rest keep going, and it rejoins when healthy', async (t) => {
  const r = run();
  t.after(() => r.sup.close());
  const cams = [11, 12, 13, 14];
  r.sup.setCameras(cams.map((i) => ({ id: id(i), url: url(i) })));
  await until('online', () => cams.every((i) => r.status(id(i)) === 'online'), 15_000);
  server.setFault(id(12), { kind: 'stall' });
  const t0 = Date.now();
  await until('stalled camera reported', () => r.status(id(12)) === 'offline', 12_000);
  const detectS = (Date.now() - t0) / 1000;
  assert.ok(detectS < 4 + 4, `detected after ${detectS} s`);
  // The others deliver again within a few seconds of the stall, whatever ffmpeg did meanwhile.
  const others = [11, 13, 14].map(id);
  const base = others.map(r.count);
  await until('others deliver', () => others.every((o, i) => r.count(o) >= (base[i] ?? 0) + 2), 10_000);
  assert.ok(Date.now() - t0 < 14_000, `others stalled ${(Date.now() - t0) / 1000} s`);
  server.setFault(id(12), undefined);
  await until('stalled camera back online', () => r.status(id(12)) === 'online', 15_000);
  await until(
    'back in one group',
    () => {
      const p = r.sup.stats().processes;
      return p.length === 1 && p[0]?.kind === 'group' && p[0].cameras.length === 4;
    },
    20_000,
  );
});

test('supervisor: SIGKILL of ffmpeg -> cameras resume; a stopped process is replaced and its late exit is ignored', async (t) => {
  const r = run({ camerasPerDecoder: 3 });
  t.after(() => r.sup.close());
  const cams = [21, 22, 23].map(id);
  r.sup.setCameras(cams.map((c) => ({ id: c, url: url(Number(c)) })));
  await until('online', () => cams.every((c) => r.status(c) === 'online'), 15_000);
  const [pid] = r.sup.pids();
  assert.ok(pid);
  const before = cams.map(r.count);
  process.kill(pid, 'SIGKILL');
  const t0 = Date.now();
  await until('frames after SIGKILL', () => cams.every((c, i) => r.count(c) > (before[i] ?? 0) + 1), 10_000);
  assert.ok(Date.now() - t0 < 10_000);
  assert.ok(!r.sup.pids().includes(pid));

  // SIGSTOP: alive but frozen. The watchdog replaces it; the old one dies later (SIGKILL after
  // killTimeoutMs) and that exit must not touch the new processes.
  const [pid2] = r.sup.pids();
  assert.ok(pid2);
  process.kill(pid2, 'SIGSTOP');
  const mid = cams.map(r.count);
  await until('frames after SIGSTOP', () => cams.every((c, i) => r.count(c) > (mid[i] ?? 0) + 1), 15_000);
  const now = r.sup.pids();
  assert.ok(!now.includes(pid2));
  await sleep(2500); // the stale process has exited by now
  assert.throws(() => process.kill(pid2, 0), 'old process gone');
  // Quarantined cameras may have been regrouped meanwhile: whatever runs now must be alive.
  for (const p of r.sup.pids()) process.kill(p, 0);
  // Every camera delivers again after the stale exit. Not within a fixed 2.5 s: a quarantined
  // camera being regrouped at that moment has a gap of its own (failed once so under npm test).
  const after1 = cams.map(r.count);
  await until('still delivering', () => cams.every((c, i) => r.count(c) > (after1[i] ?? 0)), 10_000);
});

test('supervisor: works with the bundled 2018 static ffmpeg; removing cameras at run time', async (t) => {
  const bundled = join(import.meta.dirname, '../node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
  const r = run({ ffmpeg: resolveFfmpeg(bundled, '') });
  t.after(() => r.sup.close());
  r.sup.setCameras([31, 32, 33].map((i) => ({ id: id(i), url: url(i) })));
  await until('online', () => [31, 32, 33].every((i) => r.status(id(i)) === 'online'), 15_000);
  r.sup.setCameras([31, 32].map((i) => ({ id: id(i), url: url(i) })));
  const c = r.count(id(31));
  await until('still delivering', () => r.count(id(31)) > c + 1, 10_000);
  assert.deepEqual(
    r.sup.stats().processes.map((p) => p.cameras),
    [[id(31), id(32)]],
  );
  const stopped = r.frames.get(id(33))?.length;
  await sleep(1500);
  assert.equal(r.frames.get(id(33))?.length, stopped);
});
