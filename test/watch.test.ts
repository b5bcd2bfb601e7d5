// `facegate watch` as users run it: a child process against a real mosquitto, messages published
// from here, stdout compared line by line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startMosquitto, type TestBroker } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { connectMqtt, type MqttLink } from '../shared/mqtt.ts';
import { createLogger } from '../shared/log.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { badFilter, classify, jsonLine, readableLine, watchFilters } from '../cli/watch-format.ts';

const mosquitto = needs('mosquitto');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let broker: TestBroker | undefined;
let pub: MqttLink | undefined;

before(async () => {
  if (mosquitto.skip !== undefined) return;
  broker = await startMosquitto();
  pub = connectMqtt(
    { url: broker.url, clientId: `watch-test-pub-${process.pid}` },
    createLogger({ level: 'silent', format: 'json' }),
  );
  await pub.waitConnected(10_000);
});

after(async () => {
  await pub?.close({ force: true });
  await broker?.stop();
});

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once watch said on stderr that it subscribed: live messages reach it from then on. */
  ready: () => Promise<void>;
  exit: Promise<number | null>;
}

function watch(args: string[]): Child {
  // The test runner's own FACEGATE_* or MQTT_URL must not leak into the child.
  const env: Record<string, string> = { TZ: 'UTC' };
  for (const k of ['PATH', 'HOME']) if (process.env[k]) env[k] = process.env[k];
  const proc = spawn(process.execPath, ['bin/facegate.js', 'watch', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  void exit.then(() => clearTimeout(killer));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    ready: async () => {
      await waitFor(
        () => err.includes('facegate watch:') || proc.exitCode !== null,
        20_000,
        'watch to subscribe',
      );
      assert.equal(proc.exitCode, null, `watch exited early: ${err}`);
    },
    exit,
  };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
const send = (topic: string, body: unknown, retain = false): Promise<void> =>
  pub!.publish(topic, JSON.stringify(body), { qos: 1, retain });

function faceEvent(prefixCamera: string, type: 'start' | 'end', n: number): Record<string, unknown> {
  return {
    v: 1,
    type,
    eventId: `ev-${prefixCamera}-${n}`,
    trackId: n,
    cameraId: prefixCamera,
    gatewayId: 'gw-a',
    ts: '2024-05-01T10:00:01.250Z',
    box: [0.25, 0.5, 0.125, 0.25],
    score: 0.912,
    frame: { width: 640, height: 360 },
  };
}

const status = (s: string, gatewayId = 'gw-a', detail?: string): Record<string, unknown> => ({
  v: 1,
  status: s,
  gatewayId,
  ts: '2024-05-01T10:00:00.000Z',
  ...(detail ? { detail } : {}),
});

test('--json: retained statuses, summarised catalog, then live events, exactly', {
  ...mosquitto,
}, async () => {
  const P = 'w1';
  const cameras = Array.from({ length: 300 }, (_, i) => ({
    id: String(i + 1).padStart(6, '0'),
    url: `rtsp://simulator:8554/cam/${i + 1}`,
  }));
  await send(`${P}/cameras/000001/status`, status('online'), true);
  await send(`${P}/gateways/gw-a/status`, status('online'), true);
  await send(`${P}/simulator/catalog`, { v: 1, ts: '2024-05-01T09:59:59.000Z', count: 300, cameras }, true);
  const started = Date.now();
  const w = watch(['--json', '--mqtt-url', broker!.url, '--set', `mqtt.prefix=${P}`, '--count', '5']);
  await w.ready();
  const start = faceEvent('000001', 'start', 1);
  const end = { ...faceEvent('000001', 'end', 1), durationS: 3.5, endReason: 'unseen' };
  await send(`${P}/cameras/000001/faces`, start);
  await send(`${P}/cameras/000001/faces`, end);
  assert.equal(await w.exit, 0, w.stderr());
  const got = lines(w.stdout()).map(
    (l) => JSON.parse(l) as { topic: string; ts: string; retained: boolean; payload: unknown },
  );
  assert.equal(got.length, 5, w.stdout());
  for (const g of got) {
    assert.match(g.ts, ISO);
    assert.ok(Date.parse(g.ts) >= started - 1000 && Date.parse(g.ts) <= Date.now());
    assert.deepEqual(Object.keys(g), ['topic', 'ts', 'retained', 'payload']);
  }
  // Retained ones arrive first (their order among filters is the broker's); live ones in order.
  const retained = got
    .slice(0, 3)
    .map(({ topic, retained, payload }) => ({ topic, retained, payload }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
  assert.deepEqual(retained, [
    { topic: `${P}/cameras/000001/status`, retained: true, payload: status('online') },
    { topic: `${P}/gateways/gw-a/status`, retained: true, payload: status('online') },
    {
      topic: `${P}/simulator/catalog`,
      retained: true,
      payload: { v: 1, ts: '2024-05-01T09:59:59.000Z', count: 300 },
    },
  ]);
  assert.deepEqual(
    got.slice(3).map(({ topic, retained, payload }) => ({ topic, retained, payload })),
    [
      { topic: `${P}/cameras/000001/faces`, retained: false, payload: start },
      { topic: `${P}/cameras/000001/faces`, retained: false, payload: end },
    ],
  );
});

test('--camera shows only that camera, whatever else is published', mosquitto, async () => {
  const P = 'w2';
  await send(`${P}/cameras/000001/status`, status('online'), true);
  await send(`${P}/cameras/000002/status`, status('unreachable', 'gw-b', 'connection refused'), true);
  const w = watch([
    '--json',
    '--mqtt-url',
    broker!.url,
    '--set',
    `mqtt.prefix=${P}`,
    '--camera',
    '000002',
    '--count',
    '2',
  ]);
  await w.ready();
  await send(`${P}/cameras/000001/faces`, faceEvent('000001', 'start', 1));
  await send(`${P}/gateways/gw-a/status`, status('offline'));
  await send(`${P}/cameras/000002/faces`, faceEvent('000002', 'start', 2));
  assert.equal(await w.exit, 0, w.stderr());
  const got = lines(w.stdout()).map((l) => JSON.parse(l) as { topic: string; payload: unknown });
  assert.deepEqual(
    got.map((g) => [g.topic, g.payload]),
    [
      [`${P}/cameras/000002/status`, status('unreachable', 'gw-b', 'connection refused')],
      [`${P}/cameras/000002/faces`, faceEvent('000002', 'start', 2)],
    ],
  );
});

test('readable lines for a status and an event', mosquitto, async () => {
  const P = 'w3';
  await send(`${P}/cameras/000007/status`, status('online', 'gw-a'), true);
  const w = watch(['--mqtt-url', broker!.url, '--set', `mqtt.prefix=${P}`, '--count', '3']);
  await w.ready();
  await send(`${P}/cameras/000007/faces`, faceEvent('000007', 'start', 1));
  await send(`${P}/gateways/gw-a/status`, status('offline', 'gw-a', 'shutdown'));
  assert.equal(await w.exit, 0, w.stderr());
  assert.deepEqual(lines(w.stdout()), [
    '10:00:00.000  camera 000007  status  online  gateway gw-a  [retained]',
    '10:00:01.250  camera 000007  start   box 160,180 80x90 of 640x360  score 0.91  gateway gw-a  event ev-00000',
    '10:00:00.000  gateway gw-a  status  offline (shutdown)',
  ]);
});

test('SIGINT exits 0', mosquitto, async () => {
  const w = watch(['--mqtt-url', broker!.url, '--set', 'mqtt.prefix=w4']);
  await w.ready();
  w.proc.kill('SIGINT');
  assert.equal(await w.exit, 0, w.stderr());
  assert.equal(w.stdout(), '');
});

test('unreachable broker: exit 4 and one line on stderr', async () => {
  const port = await freePort(); // nothing listens there
  const w = watch(['--mqtt-url', `mqtt://127.0.0.1:${port}`, '--timeout', '1']);
  assert.equal(await w.exit, 4);
  assert.equal(w.stdout(), '');
  const err = lines(w.stderr());
  assert.equal(err.length, 1, w.stderr());
  assert.match(
    err[0]!,
    new RegExp(`^facegate: mqtt: cannot reach the broker at mqtt://127\\.0\\.0\\.1:${port} within 1000 ms`),
  );
});

test('bad flags exit 2 with one line', async () => {
  for (const args of [
    ['--topic', 'a/#/b'],
    ['--camera', 'a/b'],
    ['--count', '0'],
  ]) {
    const w = watch(args);
    assert.equal(await w.exit, 2, args.join(' '));
    assert.equal(lines(w.stderr()).length, 1, w.stderr());
  }
});

test('formats: filters, topic kinds, catalog never dumped, odd payloads', () => {
  assert.equal(badFilter('a/+/b/#'), undefined);
  assert.ok(badFilter('a/b#'));
  assert.ok(badFilter('a+/b'));
  assert.ok(badFilter(''));
  assert.deepEqual(watchFilters('p', { camera: 'c1' }), ['p/cameras/c1/faces', 'p/cameras/c1/status']);
  assert.deepEqual(watchFilters('p', { camera: 'c1', topics: ['x/#', 'x/#'] }), ['x/#']);
  assert.deepEqual(classify('p/gateways/g/stats', 'p'), { kind: 'gatewayStats', gateway: 'g' });
  assert.deepEqual(classify('q/cameras/c/faces', 'p'), { kind: 'other' });
  const at = Date.UTC(2024, 4, 1, 10, 0, 0);
  const catalog = {
    topic: 'p/simulator/catalog',
    payload: Buffer.from(JSON.stringify({ v: 1, count: 2, cameras: [{ id: 'a' }, { id: 'b' }] })),
    retained: true,
    at,
  };
  assert.ok(!jsonLine(catalog, 'p').includes('"cameras"'));
  assert.ok(!readableLine(catalog, 'p').includes('"id"'));
  const other = readableLine(
    { topic: 'p/misc', payload: Buffer.from('hello\nworld'), retained: false, at },
    'p',
  );
  assert.match(other, /p\/misc {2}hello world$/);
  const binary = JSON.parse(
    jsonLine({ topic: 'p/x', payload: Buffer.from([0xff, 0xfe]), retained: false, at }, 'p'),
  ) as { payload: unknown };
  assert.deepEqual(binary.payload, { base64: '//4=' });
  const stats = readableLine(
    {
      topic: 'p/gateways/g/stats',
      payload: Buffer.from(
        JSON.stringify({
          cameras: { assigned: 4, online: 3 },
          frames: { analysed: 9 },
          events: { published: 2, pending: 0 },
          cpuPercent: 41.6,
        }),
      ),
      retained: false,
      at,
    },
    'p',
  );
  const withCrop = readableLine(
    {
      topic: 'p/cameras/c/faces',
      payload: Buffer.from(
        JSON.stringify({
          type: 'start',
          box: [0.1, 0.2, 0.3, 0.4],
          score: 0.8,
          gatewayId: 'g',
          crop: 'A'.repeat(4096),
        }),
      ),
      retained: false,
      at,
    },
    'p',
  );
  assert.match(withCrop, /start {3}box 0\.10,0\.20 0\.30x0\.40 {2}score 0\.80 {2}gateway g {2}crop 3 KB$/);
  assert.match(
    stats,
    /gateway g {2}stats {2}cameras 3\/4 online {2}frames 9 analysed {2}events 2 sent, 0 pending {2}cpu 42%$/,
  );
});
