// One contract, two sources: the same cases against the rtsp ingest (the gateway reads RTSP and
// decodes keyframes in shared decoders) and the ffmpeg ingest (ffmpeg reads each URL), each with
// its configured defaults, on the simulator's real RTSP server and real ffmpeg. Frames reach their
// own camera, statuses say online / unauthorized / unreachable, a removed camera stops, a camera
// whose session drops comes back, and close is bounded and leaves no process behind.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { ingestSchema } from '../config/schema.ts';
import { createIngest, type Ingest } from '../gateway/ingest/index.ts';
import type { CameraStatus } from '../gateway/ingest/contract.ts';
import type { Frame } from '../gateway/frame.ts';
import { createLogger } from '../shared/log.ts';
import { processTree } from '../shared/proc.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { systemFfmpeg } from './helpers/city.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');
const log = createLogger({ level: 'silent', format: 'json' });
const clip = makeTestClip(join(tmpdir(), 'facegate-ingest-test'), { seconds: 4, gopS: 1 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const kinds = ['rtsp', 'ffmpeg'] as const;

let server: RtspServer;
let authServer: RtspServer;
const ports = new Map<RtspServer, number>();
const resolve = (cam: string): { clip: number; phaseS: number } => ({
  clip: 0,
  phaseS: (cam.charCodeAt(cam.length - 1) % 10) * 0.1,
});
before(async () => {
  server = createRtspServer({ host: '127.0.0.1', port: 0, clips: [clip], resolve }, { log });
  ports.set(server, (await server.listen()).port);
  authServer = createRtspServer(
    { host: '127.0.0.1', port: 0, clips: [clip], resolve, auth: { username: 'gate', password: 's3cret' } },
    { log },
  );
  ports.set(authServer, (await authServer.listen()).port);
});
after(async () => {
  await server.close();
  await authServer.close();
});
const url = (s: RtspServer, cam: string, cred = ''): string =>
  `rtsp://${cred}127.0.0.1:${ports.get(s)}/cam/${cam}`;

interface Run {
  ingest: Ingest;
  frames: Map<string, Frame[]>;
  count(id: string): number;
  status(id: string): CameraStatus | undefined;
}

/** A source with the defaults of its kind (config/schema.ts), a short stall time for the test. */
function start(kind: (typeof kinds)[number]): Run {
  const frames = new Map<string, Frame[]>();
  const statuses = new Map<string, CameraStatus>();
  const ingest = createIngest(
    ingestSchema.parse(kind),
    { stallS: 3, ffmpeg: systemFfmpeg(), width: 160, height: 120 },
    {
      log,
      onFrame: (f) => {
        const l = frames.get(f.cameraId) ?? [];
        if (l.length > 50) l.shift();
        l.push(f);
        frames.set(f.cameraId, l);
      },
      onStatus: (cam, s) => statuses.set(cam, s),
    },
  );
  return {
    ingest,
    frames,
    count: (id) => ingest.stats().cameras.find((c) => c.id === id)?.frames ?? 0,
    status: (id) => statuses.get(id),
  };
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

const children = (): number[] => processTree([process.pid]).filter((p) => p !== process.pid);

for (const kind of kinds) {
  test(`${kind} ingest: frames for each camera, exact size, on their own camera; close is bounded and leaves no process`, async () => {
    const r = start(kind);
    const cams = ['a1', 'a2', 'a3'];
    r.ingest.setCameras(cams.map((c) => ({ id: c, url: url(server, c) })));
    await until('all online', () => cams.every((c) => r.status(c) === 'online'), 20_000);
    await until('3 frames each', () => cams.every((c) => (r.frames.get(c)?.length ?? 0) >= 3), 20_000);
    for (const c of cams)
      for (const f of r.frames.get(c) ?? []) {
        assert.equal(f.cameraId, c);
        assert.equal(f.rgb.length, 160 * 120 * 3);
        assert.equal(f.width, 160);
        assert.equal(f.height, 120);
      }
    const st = r.ingest.stats();
    assert.deepEqual(st.cameras.map((c) => c.id).sort(), cams);
    assert.ok(st.cameras.every((c) => c.status === 'online' && c.frames >= 3));
    const pids = r.ingest.pids();
    assert.ok(pids.length >= 1, 'decoder processes are listed');
    const t0 = Date.now();
    await r.ingest.close();
    assert.ok(Date.now() - t0 < 6000, `close took ${Date.now() - t0} ms`);
    assert.deepEqual(
      children().filter((p) => pids.includes(p)),
      [],
      'no decoder process after close',
    );
    assert.deepEqual(r.ingest.pids(), []);
  });

  test(`${kind} ingest: statuses online, unauthorized (wrong and missing password), unreachable (closed port, unknown path)`, async (t) => {
    const r = start(kind);
    t.after(() => r.ingest.close());
    r.ingest.setCameras([
      { id: 'ok', url: url(authServer, 'ok', 'gate:s3cret@') },
      { id: 'wrong', url: url(authServer, 'wrong', 'gate:nope@') },
      { id: 'none', url: url(authServer, 'none') },
      { id: 'dead', url: `rtsp://127.0.0.1:${await closedPort()}/cam/x` },
      { id: 'nopath', url: `rtsp://127.0.0.1:${ports.get(server)}/nothing/here` },
    ]);
    await until('right password online', () => r.status('ok') === 'online', 30_000);
    await until('wrong password unauthorized', () => r.status('wrong') === 'unauthorized', 30_000);
    await until('no password unauthorized', () => r.status('none') === 'unauthorized', 30_000);
    await until('closed port unreachable', () => r.status('dead') === 'unreachable', 30_000);
    await until('unknown path unreachable', () => r.status('nopath') === 'unreachable', 30_000);
    assert.ok((r.frames.get('ok')?.length ?? 0) >= 1);
    for (const id of ['wrong', 'none', 'dead', 'nopath']) assert.equal(r.frames.get(id), undefined, id);
  });

  test(`${kind} ingest: a removed camera stops and leaves the stats; the others go on`, async (t) => {
    const r = start(kind);
    t.after(() => r.ingest.close());
    const cams = ['r1', 'r2'];
    r.ingest.setCameras(cams.map((c) => ({ id: c, url: url(server, c) })));
    await until('both delivering', () => cams.every((c) => r.count(c) >= 2), 20_000);
    r.ingest.setCameras([{ id: 'r1', url: url(server, 'r1') }]);
    await sleep(500);
    const removedAt = r.frames.get('r2')?.length ?? 0;
    const keptAt = r.count('r1');
    await sleep(3000);
    assert.equal(r.frames.get('r2')?.length ?? 0, removedAt, 'no frame of the removed camera');
    assert.ok(r.count('r1') >= keptAt + 2, `the kept camera goes on: ${keptAt} -> ${r.count('r1')}`);
    assert.deepEqual(
      r.ingest.stats().cameras.map((c) => c.id),
      ['r1'],
    );
  });

  test(`${kind} ingest: a camera whose session is dropped reconnects and delivers again`, async (t) => {
    const r = start(kind);
    t.after(() => r.ingest.close());
    r.ingest.setCameras([
      { id: 'k1', url: url(server, 'k1') },
      { id: 'k2', url: url(server, 'k2') },
    ]);
    await until('both delivering', () => r.count('k1') >= 2 && r.count('k2') >= 2, 20_000);
    const restarts = r.ingest.stats().cameras.find((c) => c.id === 'k1')?.restarts ?? 0;
    // The camera's RTSP session ends on the server side, as a camera rebooting would.
    assert.ok(server.closeCamerasExcept((id) => id !== 'k1') >= 1, 'a session of k1 was open');
    const droppedAt = Date.now();
    const before = r.count('k1');
    await until('k1 delivers again', () => r.count('k1') >= before + 2, 30_000);
    const back = r.ingest.stats().cameras.find((c) => c.id === 'k1');
    assert.equal(back?.status, 'online');
    assert.ok((back?.restarts ?? 0) > restarts, 'a reconnect counts as a restart');
    t.diagnostic(`${kind}: k1 back ${Date.now() - droppedAt} ms after its session was dropped`);
  });
}
