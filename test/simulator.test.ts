import assert from 'node:assert/strict';
import { createSimulator } from '../simulator/index.ts';
import { parseControl } from '../simulator/control.ts';
import { createFleet } from '../simulator/fleet.ts';
import { planScenes } from '../simulator/scenes/render.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { run } from './helpers/net.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg', 'mosquitto');

interface Catalog {
  v: number;
  count: number;
  cameras: { id: string; url: string; district: string; building: number; entrance: number }[];
}

test('simulator: catalog and status over MQTT, run-time camera count, control refusals, ffprobe sees H.264', async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const cap = captureLogger('info');
  const cfg = testConfig([`mqtt.url=${broker.url}`, 'city.cameras=3', 'simulator.publishTruth=true']);
  const sim = await createSimulator(cfg, { log: cap.log, ffmpeg: systemFfmpeg() });
  t.after(() => sim.close());
  const sub = await collect(broker.url, ['facegate/simulator/#', 'facegate/truth/#']);
  t.after(() => sub.close());
  const catalogs = () => sub.json<Catalog>(/simulator\/catalog$/);
  await sub.waitFor(() => catalogs().length > 0, 10_000, 'the retained catalog');
  const first = catalogs()[0]!;
  assert.equal(first.count, 3);
  assert.deepEqual(
    first.cameras.map((c) => c.id),
    ['000001', '000002', '000003'],
  );
  assert.equal(first.cameras[0]!.url, `rtsp://127.0.0.1:${sim.port}/cam/000001`);
  assert.ok(first.cameras.every((c) => c.district && c.building >= 1 && c.entrance >= 1));

  const probe = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      first.cameras[1]!.url,
    ],
    15_000,
  );
  assert.equal(probe.stdout.trim(), 'h264,640,360', probe.stderr);

  await sub.link.publish('facegate/simulator/set', JSON.stringify({ cameras: 7 }), { qos: 1 });
  await sub.waitFor(() => catalogs().some((c) => c.count === 7), 10_000, 'a catalog with 7 cameras');
  assert.equal(sim.fleet.count(), 7);
  await sub.link.publish('facegate/simulator/set', '{"cameras": "lots"}', { qos: 1 });
  await sub.link.publish('facegate/simulator/set', 'not json', { qos: 1 });
  await sub.link.publish(
    'facegate/simulator/set',
    JSON.stringify({ fault: { kind: 'stall', camera: '000002' } }),
    { qos: 1 },
  );
  await sub.waitFor(
    () => cap.lines.filter((l) => l.msg === 'control message refused').length >= 2,
    5000,
    'two refusals logged',
  );
  assert.equal(sim.fleet.count(), 7);
  await sub.waitFor(
    () => Object.keys(sim.rtsp.faults().cameras).includes('000002'),
    5000,
    'the stall fault applied',
  );

  // Opt-in ground truth: start/end messages that agree with the fleet's truth for that camera.
  interface Truth {
    type: string;
    camera: string;
    isFace: boolean;
    ts: string;
  }
  await sub.waitFor(() => sub.json<Truth>(/^facegate\/truth\//).length > 0, 20_000, 'a ground-truth message');
  for (const tr of sub.json<Truth>(/^facegate\/truth\//)) {
    const at = Date.parse(tr.ts);
    const ivs = sim.fleet.truth(tr.camera, at - 1000, at + 1000);
    assert.ok(
      ivs.some((iv) => Math.abs((tr.type === 'start' ? iv.startMs : iv.endMs) - at) < 5),
      `truth ${JSON.stringify(tr)} matches the fleet`,
    );
  }
});

test('control messages: schema and one-line errors', () => {
  const cases: [string, string | undefined][] = [
    ['{"cameras": 10}', undefined],
    ['{"fault": {"kind": "corrupt", "fraction": 0.1, "seed": 3}}', undefined],
    ['{"fault": {"kind": "none", "camera": "000001"}}', undefined],
    ['{"clearFaults": true}', undefined],
    ['{"cameras": 0}', 'control message: cameras: Too small: expected number to be >=1'],
    ['{"fault": {"kind": "explode", "camera": "000001"}}', 'control message: fault.kind: Invalid'],
    ['{"fault": {"kind": "stall"}}', 'fault needs "camera" or "fraction"'],
    ['{}', 'control message sets nothing'],
    ['[1,2]', 'control message: (root): Invalid input: expected object, received array'],
    ['{"cameras": 5, "extra": 1}', 'control message: (root): Unrecognized key: "extra"'],
  ];
  for (const [text, err] of cases) {
    const r = parseControl(Buffer.from(text));
    if (err === undefined) assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
    else {
      assert.ok(!r.ok, `${text} should be refused`);
      assert.ok(r.error.startsWith(err), `${text}: got ${r.error}`);
    }
  }
});

test('fleet: stable identities as the count changes; ground truth follows the clip at the camera phase', () => {
  const clips = planScenes({
    width: 640,
    height: 360,
    fps: 10,
    keyframeIntervalS: 1,
    seconds: 20,
    count: 2,
    seed: 1,
  });
  const a = createFleet({ count: 5, seed: 1, clips });
  const b = createFleet({ count: 50, seed: 1, clips });
  assert.deepEqual(a.get('000004'), b.get('000004'));
  assert.equal(a.get('000006'), undefined);
  assert.equal(a.get('../etc'), undefined);
  const ids = new Set(b.list().map((c) => `${c.clip}@${c.phaseS}`));
  assert.ok(ids.size > 40, 'neighbours play different moments');
  const cam = b.get('000010')!;
  const clip = clips[cam.clip]!;
  // Over one whole loop, the camera shows each appearance of its clip exactly once.
  const t0 = 1_000_000_000_000;
  const tr = b.truth(cam.id, t0, t0 + clip.durationS * 1000);
  const whole = tr.filter((x) => x.startMs > t0 && x.endMs < t0 + clip.durationS * 1000);
  assert.ok(tr.length >= clip.appearances.length);
  for (const iv of whole)
    assert.ok(
      clip.appearances.some(
        (ap) => ap.id === iv.id && Math.abs(ap.endS - ap.startS - (iv.endMs - iv.startMs) / 1000) < 0.01,
      ),
    );
});

test('fleet truth returns whole appearances, not clipped to the asked window', () => {
  const clips = planScenes({
    width: 640,
    height: 360,
    fps: 10,
    keyframeIntervalS: 1,
    seconds: 20,
    count: 2,
    seed: 1,
  });
  const f = createFleet({ count: 3, seed: 1, clips });
  const t0 = 1_000_000_000_000;
  const all = f.truth('000002', t0, t0 + 60_000);
  const iv = all.find((x) => x.startMs > t0 + 1000)!;
  const mid = f
    .truth('000002', iv.startMs + 200, iv.startMs + 300)
    .find((x) => x.id === iv.id && x.loop === iv.loop);
  assert.equal(mid?.startMs, iv.startMs);
  assert.equal(mid?.endMs, iv.endMs);
});
