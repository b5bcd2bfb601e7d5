// Faults on demand: stall, disconnect, corrupt, wrongPassword, flap, and a seeded fraction.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { createFaultTable } from '../simulator/rtsp/faults.ts';
import { rawExchange, startLoadReader } from '../simulator/rtsp/load-reader.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg');

const log = createLogger({ level: 'silent', format: 'json' });
const clip = makeTestClip(join(tmpdir(), 'facegate-rtsp-test'), { seconds: 4, gopS: 1 });
const id = (i: number): string => String(i).padStart(6, '0');
let server: RtspServer;
let port = 0;

before(async () => {
  server = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [clip],
      resolve: (cam) => ({ clip: 0, phaseS: Number(cam) * 0.1 || 0 }),
    },
    { log },
  );
  port = (await server.listen()).port;
});
after(() => server.close());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cam = (i: number): string => `/cam/${id(i)}`;

function ffmpegErrors(path: string, seconds: number): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('ffmpeg', [
      '-hide_banner',
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      `rtsp://127.0.0.1:${port}${path}`,
      '-t',
      String(seconds),
      '-f',
      'null',
      '-',
    ]);
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', () => resolve(err));
  });
}

test('stall: the socket stays open but no more media', async () => {
  const r = await startLoadReader({ host: '127.0.0.1', port, path: () => cam(101), sessions: 1 });
  try {
    await sleep(1500);
    assert.ok(r.stats().packets > 0);
    server.setFault(id(101), { kind: 'stall' });
    await sleep(100);
    const before = r.stats().packets;
    await sleep(1000);
    assert.equal(r.stats().packets, before);
    assert.equal(r.stats().playing, 1, 'connection still open');
    server.setFault(id(101), undefined);
    await sleep(500);
    assert.ok(r.stats().packets > before, 'media resumes when the fault clears');
  } finally {
    await r.close();
  }
});

test('disconnect: sessions closed now and again periodically', async () => {
  const r = await startLoadReader({ host: '127.0.0.1', port, path: () => cam(102), sessions: 2 });
  server.setFault(id(102), { kind: 'disconnect', everyS: 1 });
  await sleep(200);
  assert.equal(r.stats().closed, 2);
  await r.close();
  const again = await startLoadReader({ host: '127.0.0.1', port, path: () => cam(102), sessions: 1 });
  await sleep(1300);
  assert.equal(again.stats().closed, 1, 'a new session is closed at the next period');
  await again.close();
  server.setFault(id(102), undefined);
});

test('corrupt: garbled video on one camera, clean video on another at the same time', async () => {
  server.setFault(id(103), { kind: 'corrupt', probability: 0.3 });
  const [bad, good] = await Promise.all([ffmpegErrors(cam(103), 3), ffmpegErrors(cam(104), 3)]);
  server.setFault(id(103), undefined);
  assert.notEqual(bad.trim(), '', 'the decoder reports errors');
  assert.equal(good.trim(), '', 'shared packets are untouched');
});

test('wrongPassword: 401 even when the server needs no password', async () => {
  server.setFault(id(105), { kind: 'wrongPassword' });
  const res = await rawExchange(
    '127.0.0.1',
    port,
    `DESCRIBE rtsp://127.0.0.1:${port}${cam(105)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
    300,
  );
  assert.match(res, /^RTSP\/1\.0 401 Unauthorized/);
  const withAuth = await rawExchange(
    '127.0.0.1',
    port,
    `DESCRIBE rtsp://127.0.0.1:${port}${cam(105)} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Digest username="admin", realm="facegate", nonce="0", uri="x", response="00"\r\n\r\n`,
    300,
  );
  assert.match(withAuth, /^RTSP\/1\.0 401 Unauthorized/);
  server.setFault(id(105), undefined);
  assert.match(
    await rawExchange(
      '127.0.0.1',
      port,
      `DESCRIBE rtsp://127.0.0.1:${port}${cam(105)} RTSP/1.0\r\nCSeq: 3\r\n\r\n`,
      300,
    ),
    /^RTSP\/1\.0 200 OK/,
  );
});

test('flap: 503 while down, available while up, sessions closed when it goes down', async () => {
  const describe = (): Promise<string> =>
    rawExchange(
      '127.0.0.1',
      port,
      `DESCRIBE rtsp://127.0.0.1:${port}${cam(106)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
      300,
    );
  server.setFault(id(106), { kind: 'flap', downS: 0.8, upS: 1.2 });
  assert.match(await describe(), /^RTSP\/1\.0 503 Service Unavailable/);
  await sleep(900);
  assert.match(await describe(), /^RTSP\/1\.0 200 OK/);
  const r = await startLoadReader({ host: '127.0.0.1', port, path: () => cam(106), sessions: 1 });
  assert.equal(r.stats().playing, 1);
  await sleep(1200);
  assert.equal(r.stats().closed, 1);
  await r.close();
  server.setFault(id(106), undefined);
});

test('a seeded fraction of the fleet stalls, the same cameras a fault table would pick', async () => {
  const n = 24;
  const r = await startLoadReader({ host: '127.0.0.1', port, path: (i) => cam(200 + i), sessions: n });
  await sleep(1200);
  server.setFaultFraction('stall', 0.5, 7);
  await sleep(100);
  const before = new Map(server.sessions().map((s) => [s.cameraId, s.framesSent]));
  await sleep(1100);
  const stalled = server
    .sessions()
    .filter((s) => s.framesSent === before.get(s.cameraId))
    .map((s) => s.cameraId)
    .sort();
  const table = createFaultTable();
  table.setFraction({ kind: 'stall' }, 0.5, 7);
  const want = Array.from({ length: n }, (_, i) => id(200 + i))
    .filter((c) => table.get(c))
    .sort();
  assert.deepEqual(stalled, want);
  assert.ok(want.length > 4 && want.length < 20);
  server.setFaultFraction('stall', 0, 7);
  await r.close();
});
