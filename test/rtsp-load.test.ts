// Many sessions through the load reader, and a slow client that gets frames dropped to the next IDR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { startLoadReader } from '../simulator/rtsp/load-reader.ts';
import { createRtspServer } from '../simulator/rtsp/server.ts';

const log = createLogger({ level: 'silent', format: 'json' });
const dir = join(tmpdir(), 'facegate-rtsp-test');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the load reader holds 300 sessions with no sequence gaps and little lag', async () => {
  const clip = makeTestClip(dir, { seconds: 4, gopS: 1 });
  const server = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [clip],
      resolve: (id) => ({ clip: 0, phaseS: (Number(id) % 40) / 10 }),
    },
    { log },
  );
  const { port } = await server.listen();
  const reader = await startLoadReader({
    host: '127.0.0.1',
    port,
    path: (i) => `/cam/${String(i + 1).padStart(6, '0')}`,
    sessions: 300,
    credentials: { username: 'x', password: 'y' },
  });
  try {
    assert.equal(reader.stats().playing, 300);
    await sleep(1200); // everyone past their first IDR
    reader.resetCounters();
    await sleep(3000);
    const s = reader.stats();
    assert.equal(s.failed, 0);
    assert.equal(s.seqGaps, 0);
    assert.ok(s.frames >= 300 * 27 && s.frames <= 300 * 32, `frames ${s.frames}`);
    assert.ok(s.lagMs.p95 < 150, `lag p95 ${s.lagMs.p95} ms`);
    const st = server.stats();
    assert.equal(st.sessions, 300);
    assert.equal(st.playing, 300);
    assert.equal(st.framesDropped, 0);
    assert.equal(Object.keys(st.perCamera).length, 300);
  } finally {
    await reader.close();
    await server.close();
  }
});

test('a client that stops reading gets frames dropped up to the next IDR, counted', async () => {
  const clip = makeTestClip(dir, { seconds: 2, gopS: 1, noise: true });
  const server = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [clip],
      resolve: () => ({ clip: 0, phaseS: 0 }),
      maxQueuedBytes: 256 * 1024,
    },
    { log },
  );
  const { port } = await server.listen();
  const sock = connect({ host: '127.0.0.1', port });
  sock.on('error', () => undefined);
  let got = '';
  sock.on('data', (d: Buffer) => {
    if (got.length < 4096) got += d.toString('latin1');
  });
  await new Promise((r) => sock.once('connect', r));
  const base = `rtsp://127.0.0.1:${port}/cam/000001`;
  sock.write(
    `SETUP ${base}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
  );
  await sleep(100);
  const session = /Session: (\w+)/.exec(got)?.[1];
  assert.ok(session);
  sock.write(`PLAY ${base} RTSP/1.0\r\nCSeq: 2\r\nSession: ${session}\r\n\r\n`);
  await sleep(100);
  sock.pause(); // a client that does not keep up
  try {
    const deadline = Date.now() + 15_000;
    while (server.stats().framesDropped < 10 && Date.now() < deadline) await sleep(200);
    const [info] = server.sessions();
    assert.ok(info && info.framesDropped >= 10, `dropped ${info?.framesDropped}`);
    assert.equal(server.stats().framesDropped, info.framesDropped);
    assert.ok(info.queuedBytes < 256 * 1024 + 2e6, `queue ${info.queuedBytes} stays bounded`);
    // Resuming: the session picks up again at an IDR and keeps sending.
    sock.resume();
    await sleep(2500);
    const after = server.sessions()[0];
    assert.ok(after && after.framesSent > info.framesSent, 'sending resumes');
  } finally {
    sock.destroy();
    await server.close();
  }
});
