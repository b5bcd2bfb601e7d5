import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processTree } from '../shared/proc.ts';
import { createSimulator } from '../simulator/index.ts';
import { createGateway, type Gateway } from '../gateway/index.ts';
import { assigned } from '../shared/membership.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { testConfig, testSceneCache, systemFfmpeg } from './helpers/city.ts';

const bin = fileURLToPath(new URL('../bin/facegate.js', import.meta.url));
const cityArgs = [
  '--set',
  'city.scenes=2',
  '--set',
  'city.sceneSeconds=20',
  '--set',
  `simulator.cacheDir=${testSceneCache}`,
];

interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnCli(args: string[]): Child {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, output: () => out, exited };
}

/** Processes a process started (its decoders), live now. */
function childrenOf(pid: number): number[] {
  return processTree([pid]).filter((p) => p !== pid);
}

function isAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

test('facegate up: broker, simulator and gateway in one process give face events; SIGINT stops all with exit 0', async (t) => {
  const brokerPort = await freePort();
  const child = spawnCli([
    'up',
    '--cameras',
    '20',
    '--set',
    `broker.port=${brokerPort}`,
    '--set',
    'simulator.port=0',
    '--set',
    'http.port=0',
    '--set',
    'console.port=0',
    ...cityArgs,
  ]);
  t.after(() => {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  });
  const pid = child.proc.pid ?? 0;

  await waitFor(
    () => child.output().includes('Ctrl-C to stop') || child.proc.exitCode !== null,
    60_000,
    'facegate up to start',
  );
  assert.equal(child.proc.exitCode, null, `facegate up exited early:\n${child.output().slice(-3000)}`);
  assert.match(child.output(), /rtsp:\/\/127\.0\.0\.1:\d+\/cam\/000001/);
  assert.match(child.output(), new RegExp(`mqtt://127\\.0\\.0\\.1:${brokerPort}`));
  assert.match(child.output(), /http:\/\/127\.0\.0\.1:\d+\/metrics/);

  const sub = await collect(`mqtt://127.0.0.1:${brokerPort}`, ['facegate/cameras/+/faces']);
  t.after(() => sub.close());
  await sub.waitFor((m) => m.length > 0, 60_000, 'a face event');
  const ev = sub.json<FaceEvent>(/\/faces$/)[0];
  assert.ok(ev && ev.gatewayId === 'gw-1', `event from gw-1: ${JSON.stringify(ev)}`);

  const decoders = childrenOf(pid);
  assert.ok(decoders.length > 0, 'the gateway runs ffmpeg decoders');
  await sub.close();
  const sentAt = Date.now();
  child.proc.kill('SIGINT');
  const res = await timeout(child.exited, 15_000, 'exit after SIGINT');
  t.diagnostic(`exited ${Date.now() - sentAt} ms after SIGINT`);
  assert.deepEqual(res, { code: 0, signal: null }, child.output().slice(-3000));
  assert.match(child.output(), /summary|cameras online/);
  await new Promise((r) => setTimeout(r, 200));
  const left = decoders.filter(isAlive);
  assert.deepEqual(left, [], `ffmpeg processes left behind: ${left.join(', ')}`);
});

test('three gateways share the cameras exactly once; when one is SIGKILLed the others take its cameras and keep detecting', async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const sets = [`mqtt.url=${broker.url}`, 'city.cameras=9', 'gateway.settleS=1'];
  const sim = await createSimulator(testConfig(sets), { log, ffmpeg: systemFfmpeg() });
  t.after(() => sim.close());
  const all = sim.fleet
    .list()
    .map((c) => c.id)
    .sort();
  const sub = await collect(broker.url, ['facegate/cameras/+/faces']);
  t.after(() => sub.close());

  const gws: Gateway[] = [];
  t.after(async () => void (await Promise.allSettled(gws.map((g) => g.close()))));
  for (const id of ['gw-a', 'gw-b'])
    gws.push(
      await createGateway(testConfig([...sets, `gateway.id=${id}`]), {
        log,
        ffmpeg: systemFfmpeg(),
        http: false,
      }),
    );
  const c = spawnCli([
    'gateway',
    '--mqtt-url',
    broker.url,
    '--id',
    'gw-c',
    '--set',
    'gateway.settleS=1',
    '--set',
    'http.port=0',
    '--set',
    'log.level=warn',
    ...cityArgs,
  ]);
  t.after(() => {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  });

  const expectC = assigned(sim.fleet.list(), ['gw-a', 'gw-b', 'gw-c'], 'gw-c')
    .map((x) => x.id)
    .sort();
  assert.ok(expectC.length > 0, 'gw-c owns some of the 9 cameras');
  const expect = (id: string): string[] =>
    assigned(sim.fleet.list(), ['gw-a', 'gw-b', 'gw-c'], id)
      .map((x) => x.id)
      .sort();
  // Settled: a and b hold exactly their rendezvous share, and gw-c reports face events only from its own.
  await waitFor(
    () => gws.every((g) => JSON.stringify([...g.cameras()].sort()) === JSON.stringify(expect(g.id))),
    30_000,
    'three-way split',
  );
  const [a, b] = gws.map((g) => new Set(g.cameras()));
  assert.ok(a && b);
  const cSet = new Set(expectC);
  for (const id of all) {
    const owners: number = [a.has(id), b.has(id), cSet.has(id)].filter(Boolean).length;
    assert.equal(owners, 1, `camera ${id} has ${owners} owners`);
  }
  await waitFor(
    () => sub.json<FaceEvent>(/\/faces$/).some((e) => e.gatewayId === 'gw-c'),
    30_000,
    'a face event from gw-c',
  );
  for (const e of sub.json<FaceEvent>(/\/faces$/)) {
    if (e.gatewayId === 'gw-c')
      assert.ok(cSet.has(e.cameraId), `gw-c sent an event for ${e.cameraId}, not its camera`);
  }

  // gw-c dies without a word: only its last will tells the others.
  const killedAt = Date.now();
  c.proc.kill('SIGKILL');
  await c.exited;
  await waitFor(
    () =>
      gws.reduce((n, g) => n + g.cameras().length, 0) === all.length &&
      new Set(gws.flatMap((g) => g.cameras())).size === all.length,
    10_000,
    'gw-a and gw-b to take all cameras',
  );
  t.diagnostic(`cameras taken over ${Date.now() - killedAt} ms after SIGKILL`);
  for (const g of gws)
    assert.deepEqual(
      [...g.cameras()].sort(),
      assigned(sim.fleet.list(), ['gw-a', 'gw-b'], g.id)
        .map((x) => x.id)
        .sort(),
    );

  await sub.waitFor(
    (m) =>
      m.some(
        (x) =>
          x.at > killedAt &&
          /\/faces$/.test(x.topic) &&
          ((ev: FaceEvent) => cSet.has(ev.cameraId) && ev.gatewayId !== 'gw-c')(
            JSON.parse(x.payload) as FaceEvent,
          ),
      ),
    40_000,
    `a face event on one of gw-c's cameras (${expectC.join(', ')}) from gw-a or gw-b`,
  );
});
