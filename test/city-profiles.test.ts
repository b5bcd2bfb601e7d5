// Whole cities of the new kinds: `facegate up` with residential entrances (faces and movement
// without a face both in the truth topic), and a mixed H.264 / H.265 city through the gateway's
// rtsp ingest with the recall of an all-H.264 one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import { scoreEvents, type Score } from '../bench/score.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { testConfig, testSceneCache, systemFfmpeg } from './helpers/city.ts';

const bin = fileURLToPath(new URL('../bin/facegate.js', import.meta.url));

interface Truth {
  type: 'start' | 'end';
  camera: string;
  isFace: boolean;
  kind: string;
}

test('facegate up --set city.profile=residential: faces and movement without a face are both in the truth', async (t) => {
  const brokerPort = await freePort();
  const args = [
    ...['up', '--cameras', '8', '--set', 'city.profile=residential', '--set', 'city.scenes=2'],
    // Short clips at a high rate: a test cannot wait for 20 passages an hour.
    ...['--set', 'city.residentialSeconds=30', '--set', 'city.passagesPerHour=240'],
    ...['--set', 'simulator.publishTruth=true', '--set', `broker.port=${brokerPort}`],
    ...['--set', 'simulator.port=0', '--set', 'http.port=0', '--set', 'console.port=0'],
    ...['--set', `simulator.cacheDir=${testSceneCache}`],
  ];
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  await waitFor(
    () => out.includes('Ctrl-C to stop') || proc.exitCode !== null,
    120_000,
    'facegate up to start',
  );
  assert.equal(proc.exitCode, null, `facegate up exited early:\n${out.slice(-3000)}`);
  const sub = await collect(`mqtt://127.0.0.1:${brokerPort}`, [
    'facegate/truth/+',
    'facegate/simulator/status',
  ]);
  t.after(() => sub.close());
  const truth = (): Truth[] => sub.json<Truth>(/^facegate\/truth\//);
  await sub.waitFor(
    () => truth().some((x) => x.isFace) && truth().some((x) => !x.isFace),
    90_000,
    'truth with a face and with movement without one',
  );
  const kinds = new Set(truth().map((x) => `${x.kind}:${x.isFace}`));
  t.diagnostic(`truth kinds seen: ${[...kinds].join(' ')}`);
  assert.ok(
    [...kinds].every((k) =>
      /^(astronaut|camera):true$|^(door|pet|back|small-face|blurred-face):false$/.test(k),
    ),
  );
  // The simulator reports what its clips hold in memory.
  await sub.waitFor((m) => m.some((x) => x.topic.endsWith('/status')), 10_000, 'simulator status');
  const status = sub.json<{ clipBytes?: number }>(/simulator\/status$/).at(-1);
  assert.ok((status?.clipBytes ?? 0) > 100_000, JSON.stringify(status));
  await sub.close();
  proc.kill('SIGINT');
  assert.equal(await exited, 0, out.slice(-3000));
});

async function cityRecall(
  codec: 'h264' | 'mixed',
  ingest: 'rtsp' | 'ffmpeg' = 'rtsp',
): Promise<{ all: Score; h265: Score; h265Cams: number }> {
  const broker = await startTestBroker();
  const { log } = captureLogger('silent');
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=6',
    `city.codec=${codec}`,
    'gateway.settleS=0.5',
    `gateway.ingest=${ingest}`,
  ]);
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  const sub = await collect(broker.url, ['facegate/cameras/+/faces', 'facegate/cameras/+/status']);
  const gw = await createGateway(cfg, { log, ffmpeg: systemFfmpeg(), http: false });
  try {
    const cams = sim.fleet.list().map((c) => c.id);
    await sub.waitFor(
      (m) =>
        new Set(
          m.filter((x) => x.topic.endsWith('/status') && x.payload.includes('"online"')).map((x) => x.topic),
        ).size === 6,
      30_000,
      'six cameras online',
    );
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 30_000));
    const to = Date.now() - 3000; // appearances ending later may not have their start yet
    const starts = sub
      .json<FaceEvent>(/\/faces$/)
      .filter((e) => e.type === 'start')
      .map((e) => ({ cameraId: e.cameraId, ts: Date.parse(e.ts), arrivedAt: Date.parse(e.ts) }));
    const h265Cams = sim.fleet
      .list()
      .filter((c) => sim.clips[c.clip]?.codec === 'h265')
      .map((c) => c.id);
    return {
      all: scoreEvents(sim.fleet, cams, starts, from, to),
      h265: scoreEvents(sim.fleet, h265Cams, starts, from, to),
      h265Cams: h265Cams.length,
    };
  } finally {
    await gw.close();
    await sub.close();
    await sim.close();
    await broker.stop();
  }
}

test('a mixed H.264 / H.265 city through the rtsp ingest has the recall of an all-H.264 one', async (t) => {
  const h264 = await cityRecall('h264');
  const mixed = await cityRecall('mixed');
  t.diagnostic(`all H.264: ${JSON.stringify(h264.all)}`);
  t.diagnostic(
    `mixed: ${JSON.stringify(mixed.all)}; its ${mixed.h265Cams} H.265 cameras: ${JSON.stringify(mixed.h265)}`,
  );
  assert.equal(h264.h265Cams, 0);
  assert.ok(mixed.h265Cams >= 1 && mixed.h265Cams <= 5, `${mixed.h265Cams} of 6 cameras send H.265`);
  assert.ok(h264.all.appearances >= 8 && mixed.h265.appearances >= 2, 'the window holds appearances');
  assert.ok(h264.all.recall >= 0.7, `all-H.264 recall ${h264.all.recall}`);
  // Same faces (the codec changes no schedule); one miss in ~15 appearances is ~0.07.
  assert.ok(mixed.all.recall >= h264.all.recall - 0.15, `mixed ${mixed.all.recall} vs ${h264.all.recall}`);
  assert.ok(mixed.h265.recall >= 0.6, `H.265 cameras' recall ${mixed.h265.recall}`);
});

test('the ffmpeg ingest reads the H.265 cameras of a mixed city natively', async (t) => {
  const mixed = await cityRecall('mixed', 'ffmpeg');
  t.diagnostic(
    `mixed, ffmpeg ingest: ${JSON.stringify(mixed.all)}; H.265 cameras: ${JSON.stringify(mixed.h265)}`,
  );
  assert.ok(mixed.h265.appearances >= 2, 'the window holds appearances');
  assert.ok(mixed.h265.recall >= 0.6, `H.265 cameras' recall ${mixed.h265.recall}`);
});
