// The activity gate (gateway/ingest/rtsp/activity.ts) on the simulator's real streams: sensor grain
// alone leaves most keyframes undecoded, a tracked camera is decoded throughout, and a residential
// city with the gate on keeps the recall it has without it (real simulator, ffmpeg, the model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import { createRtspIngest } from '../gateway/ingest/rtsp/supervisor.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import { scoreEvents, type Score } from '../bench/score.ts';
import { startTestBroker } from './helpers/broker.ts';
import { captureLogger } from './helpers/logs.ts';
import { waitFor } from './helpers/net.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A counter of a by-reason record, 0 when the reason never happened. */
const count = (r: Partial<Record<string, number>>, k: string): number => r[k] ?? 0;

test('grain alone leaves most keyframes undecoded; a camera with a tracked face is decoded throughout', async (t) => {
  const { log } = captureLogger('silent');
  // Empty residential doors: grain (city.noise, on by default), no passages, no distractors, steady light.
  const cfg = testConfig([
    'city.cameras=3',
    'city.profile=residential',
    'city.residentialSeconds=20',
    'city.passagesPerHour=0',
    'city.distractors=false',
    'city.lights=false',
  ]);
  assert.ok(cfg.city.noise > 0, 'the simulator adds grain by default');
  const ffmpeg = systemFfmpeg();
  const sim = await createSimulator(cfg, { log, ffmpeg });
  t.after(() => sim.close());
  const decoded = new Map<string, number>();
  const skipped = new Map<string, number>();
  const online = new Set<string>();
  const sup = createRtspIngest(
    {
      mode: 'keyframes',
      camerasPerDecoder: 8,
      stallS: 10,
      ffmpeg,
      width: 320,
      height: 240,
      activity: { enabled: true, forceLookMs: 8000 },
    },
    {
      log,
      onFrame: (f) => decoded.set(f.cameraId, (decoded.get(f.cameraId) ?? 0) + 1),
      onStatus: (cam, s) => (s === 'online' ? online.add(cam) : online.delete(cam)),
      // Camera 1 has a face tracked all along (a person standing still makes no bits).
      tracked: (cam) => cam === '000001',
      onSkip: (cam) => skipped.set(cam, (skipped.get(cam) ?? 0) + 1),
    },
  );
  t.after(() => sup.close());
  const cams = ['000001', '000002', '000003'];
  sup.setCameras(cams.map((id) => ({ id, url: sim.url(id) })));
  await waitFor(() => online.size === 3, 20_000, 'three cameras online');
  await sleep(30_000);
  const gate = sup.counters().gate;
  t.diagnostic(
    `decoded ${JSON.stringify(Object.fromEntries(decoded))}, skipped ${JSON.stringify(Object.fromEntries(skipped))}, gate ${JSON.stringify(gate)}`,
  );
  assert.equal(skipped.get('000001') ?? 0, 0, 'the tracked camera lost no keyframe to the gate');
  assert.ok((decoded.get('000001') ?? 0) >= 25, `tracked camera decoded ${decoded.get('000001')}`);
  for (const cam of ['000002', '000003']) {
    const d = decoded.get(cam) ?? 0;
    const s = skipped.get(cam) ?? 0;
    // ~31 keyframes: ~9 of warm-up (8 GOPs learned), then a forced look every 8 s, the rest skipped.
    assert.ok(d + s >= 28, `${cam}: ${d + s} keyframes`);
    assert.ok(s >= 0.8 * (d + s - 10), `${cam}: noise opened the gate: ${d} decoded, ${s} skipped`);
    assert.ok(d >= 10, `${cam}: warm-up and forced looks decode (${d})`);
  }
  assert.ok(gate.forced >= 2 && gate.track >= 20 && gate.warmup >= 6, JSON.stringify(gate));
  // Skipped keyframes keep a camera online (a forced look comes before the watchdog's limit).
  assert.equal(online.size, 3);
});

interface CityRun {
  score: Score;
  /** Keyframes decoded and skipped as still within the window. */
  decoded: number;
  still: number;
  /** GOPs decoded on activity onset within the window. */
  catchUp: number;
}

async function residentialCity(gate: boolean): Promise<CityRun> {
  const broker = await startTestBroker();
  const { log } = captureLogger('silent');
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=6',
    'city.profile=residential',
    // Short clips at a high rate, as test/city-profiles.test.ts: a test cannot wait for 20 an hour.
    'city.residentialSeconds=30',
    'city.passagesPerHour=240',
    'gateway.settleS=0.5',
    'gateway.ingest=rtsp',
    `gateway.ingest.activityGate=${gate}`,
  ]);
  const starts: FaceEvent[] = [];
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  const gw = await createGateway(cfg, {
    log,
    ffmpeg: systemFfmpeg(),
    http: false,
    onEvent: (ev) => {
      if (ev.type === 'start') starts.push(ev);
    },
  });
  try {
    await waitFor(() => gw.stats().cameras.online === 6, 30_000, 'six cameras online');
    // Past the gate's warm-up (8 GOPs learned per camera): what it does once it knows the doors.
    await sleep(10_000);
    const f0 = gw.stats().frames;
    const from = Date.now();
    await sleep(40_000);
    const to = Date.now() - 3000; // appearances ending later may not have their start yet
    const f1 = gw.stats().frames;
    const seen = starts.map((e) => ({
      cameraId: e.cameraId,
      ts: Date.parse(e.ts),
      arrivedAt: Date.parse(e.ts),
    }));
    const cams = sim.fleet.list().map((c) => c.id);
    return {
      score: scoreEvents(sim.fleet, cams, seen, from, to),
      decoded: f1.decoded - f0.decoded,
      still: count(f1.skipped, 'still') - count(f0.skipped, 'still'),
      catchUp: (f1.catchUp?.decoded ?? 0) - (f0.catchUp?.decoded ?? 0),
    };
  } finally {
    await gw.close();
    await sim.close();
    await broker.stop();
  }
}

test('a residential city with the activity gate decodes fewer keyframes and finds the faces it finds without', async (t) => {
  const off = await residentialCity(false);
  const on = await residentialCity(true);
  t.diagnostic(`gate off: ${JSON.stringify(off)}`);
  t.diagnostic(`gate on:  ${JSON.stringify(on)}`);
  assert.equal(off.still, 0);
  // 240 passages an hour with distractors and light changes is a busy residential door: a third
  // skipped when the box is idle (80 of 240); a loaded box tracks faces for longer and keeps more
  // decoded (54 of 240 seen at load 11), so the margin is a fifth.
  assert.ok(on.still > 0.2 * (on.still + on.decoded), `skipped ${on.still}, decoded ${on.decoded}`);
  assert.ok(on.decoded < 0.85 * off.decoded, `${on.decoded} vs ${off.decoded} decoded`);
  assert.ok(on.score.appearances >= 4 && off.score.appearances >= 4, 'the windows hold faces');
  // The same schedule both times (the clips are the same; phases differ with the start time).
  assert.ok(on.score.recall >= 0.75, `gate on: recall ${on.score.recall}`);
  assert.ok(on.score.recall >= off.score.recall - 0.15, `recall ${on.score.recall} vs ${off.score.recall}`);
});

test('decode on demand: under a budget below the keyframe rate, no decoded frame is superseded', async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  // Six busy cameras send 6 keyframes a second; analysis takes 3: half must go undecoded.
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=6',
    'gateway.settleS=0.5',
    'gateway.ingest=rtsp',
    'gateway.budgetFps=3',
    'gateway.ingest.activityGate=false',
  ]);
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  t.after(() => sim.close());
  const gw = await createGateway(cfg, { log, ffmpeg: systemFfmpeg(), http: false });
  t.after(() => gw.close());
  await waitFor(() => gw.stats().cameras.online === 6, 30_000, 'six cameras online');
  await sleep(20_000);
  const f = gw.stats().frames;
  const a = gw.analysis().total;
  t.diagnostic(`frames ${JSON.stringify(f)}; analysis ${JSON.stringify({ ...a, inferenceMs: undefined })}`);
  assert.equal(count(f.dropped, 'superseded'), 0, 'a decoded frame thrown away unanalysed');
  const compressed = count(f.skipped, 'compressed');
  assert.ok(
    compressed >= 0.4 * (compressed + f.decoded),
    `${compressed} skipped compressed, ${f.decoded} decoded`,
  );
  // Every decoded frame was analysed, or stopped by the motion gate, or is in flight now.
  const motion = count(f.dropped, 'motion');
  assert.ok(f.decoded - f.analysed - motion <= a.inFlight + 1, JSON.stringify(f));
  assert.equal(gw.stats().cameras.online, 6, 'cameras decoded on demand stay online');
});
