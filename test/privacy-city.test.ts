// Privacy in a running city: the real simulator, the real model, a real broker.
// 1. Masks: one RTSP stream watched as three cameras from a catalog: one masked by the
//    configuration, one by the catalog's `masks`, one open. Faces that walk only in the left half
//    make events on the open camera and none on the masked ones; faces on the right on all three. The gateway runs as its own process, and meanwhile its open
//    files (and its ffmpeg children's) are sampled: nothing is opened for writing on disk, and the
//    working tree gains nothing.
// 2. Suspend: by schedule at start, then by command with the sender as an MQTT 5 user property;
//    retained audit records, an open track ended, no event while suspended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import type { StateRecord } from '../gateway/privacy/suspend.ts';
import { processTree } from '../shared/proc.ts';
import { connectMqtt } from '../shared/mqtt.ts';
import { startMosquitto } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';
import { waitFor } from './helpers/net.ts';
import { needs } from './helpers/tools.ts';

const root = new URL('..', import.meta.url).pathname;

/** Files a process has open for writing, other than devices, pipes, sockets and anonymous inodes. */
function writtenFiles(pid: number): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out; // gone
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!target.startsWith('/') || target.startsWith('/dev/') || target.startsWith('/proc/')) continue;
      const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
      // O_ACCMODE: 0 read-only, 1 write, 2 read-write (octal flags).
      if ((Number.parseInt(flags, 8) & 3) !== 0) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

const treeState = (): string =>
  execFileSync('git', ['status', '--porcelain', '--ignored', '--untracked-files=all'], {
    cwd: root,
    encoding: 'utf8',
  });

test('masks: a face inside the mask makes no event, one outside does; the gateway writes nothing to disk', {
  ...needs('mosquitto', 'ffmpeg', 'git'),
  timeout: 150_000,
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  // The simulator's own catalog goes elsewhere (prefix sim): the test publishes the gateway's.
  const cfg = testConfig([`mqtt.url=${broker.url}`, 'mqtt.prefix=sim', 'city.cameras=8', 'city.seed=2']);
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  t.after(() => sim.close());
  // A camera playing the clip where people walk in pairs, one in each half of the picture.
  const cam = sim.fleet.list().find((c) => sim.clips[c.clip]?.appearances.length && c.clip === 1);
  assert.ok(cam, 'a camera plays clip 1');
  const clip = sim.clips[cam.clip]!;
  const lane = new Map(
    clip.appearances.map((a) => {
      const lo = Math.min(...a.boxes.map((b) => b.box.x));
      const hi = Math.max(...a.boxes.map((b) => b.box.x + b.box.w));
      return [a.id, hi <= 0.5 ? 'left' : lo >= 0.5 ? 'right' : 'both'] as const;
    }),
  );
  assert.ok(
    [...lane.values()].includes('left') && [...lane.values()].includes('right'),
    `the scene has faces in each half: ${JSON.stringify([...lane])}`,
  );
  const url = sim.url(cam.id);
  const sub = await collect(broker.url, ['facegate/cameras/+/faces', 'facegate/cameras/+/status']);
  t.after(() => sub.close());
  const before = treeState();

  // The left half as a five-point polygon (a rectangle with a point on its right edge), given to
  // one camera by the configuration and to another by the catalog.
  const leftHalf = [
    [0, 0],
    [0.5, 0],
    [0.5, 0.5],
    [0.5, 1],
    [0, 1],
  ];
  const pub = connectMqtt({ url: broker.url, clientId: `catalog-${process.pid}` }, log);
  t.after(() => pub.close({ force: true }));
  await pub.waitConnected(10_000);
  const catalog = {
    v: 1,
    count: 3,
    cameras: [
      { id: 'masked', url },
      { id: 'masked-cat', url, masks: [leftHalf] },
      { id: 'open', url },
    ],
  };
  await pub.publish('facegate/simulator/catalog', JSON.stringify(catalog), { qos: 1, retain: true });
  const gw = spawn(process.execPath, [join(root, 'bin/facegate.js'), 'gateway', '--set', 'http.port=0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '',
      MQTT_URL: broker.url,
      FACEGATE_GATEWAY_ID: 'gw-privacy',
      FACEGATE_GATEWAY_SETTLE_S: '0.5',
      FACEGATE_PRIVACY_MASKS: JSON.stringify([{ camera: 'masked', polygons: [leftHalf] }]),
      FACEGATE_LOG_FORMAT: 'json',
    },
  });
  let stderr = '';
  gw.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  gw.stdout.resume();
  const exited = new Promise((r) => gw.once('exit', r));
  t.after(async () => {
    if (gw.exitCode === null) gw.kill('SIGKILL');
    await exited;
  });
  await sub.waitFor(
    (m) => m.filter((x) => x.topic.endsWith('/status') && x.payload.includes('"online"')).length >= 3,
    30_000,
    `three cameras online (stderr: ${stderr})`,
  );
  const from = Date.now();
  const written = new Set<string>();
  let samples = 0;
  while (Date.now() - from < 24_000) {
    for (const pid of processTree([gw.pid ?? 0]))
      for (const f of writtenFiles(pid)) written.add(`${pid}: ${f}`);
    samples++;
    await new Promise((r) => setTimeout(r, 1000));
  }
  gw.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.deepEqual([...written], [], 'files open for writing by the gateway or its ffmpeg');
  assert.ok(samples >= 20);
  assert.equal(treeState(), before, 'the working tree is unchanged');

  // Every event of the masked cameras (start, end: the last box seen) lies outside the mask.
  const events = sub.json<FaceEvent>(/\/faces$/);
  for (const e of events.filter((x) => x.cameraId !== 'open'))
    assert.ok(e.box[0] >= 0.45, `${e.cameraId}: a face at x=${e.box[0]} is inside the mask`);
  const starts = events.filter((e) => e.type === 'start');
  const on = (id: string, side: 'left' | 'right') =>
    starts.filter((s) => s.cameraId === id && s.box[0] + s.box[2] / 2 < 0.5 === (side === 'left'));
  t.diagnostic(
    `from ${from}: ${JSON.stringify(starts.map((s) => [s.cameraId, Date.parse(s.ts) - from, s.box.map((v) => v.toFixed(2)).join(',')]))}`,
  );
  // The same stream, unmasked, shows faces on the left: only the mask keeps them from the other.
  assert.ok(on('open', 'left').length >= 1, 'the open camera sees faces on the left');
  for (const id of ['masked', 'masked-cat']) {
    assert.equal(on(id, 'left').length, 0);
    assert.ok(on(id, 'right').length >= 1, `${id} still sees faces on the right`);
  }
});

for (const ingest of ['ffmpeg', 'rtsp'] as const)
  test(`suspend (${ingest} ingest): by schedule and by command, retained audit records with the sender, no event while suspended`, {
    timeout: 120_000,
  }, async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const { log } = captureLogger('silent');
    const cfg = testConfig([
      `mqtt.url=${broker.url}`,
      'city.cameras=3',
      'gateway.settleS=0.5',
      `gateway.ingest=${ingest}`,
      'gateway.stallS=9',
      // Camera 000003 is suspended all day every day, by schedule, in Moscow time.
      'privacy.suspend=[{"cameras":["000003"],"timeZone":"Europe/Moscow","reason":"tenants asked"}]',
    ]);
    const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
    t.after(() => sim.close());
    const sub = await collect(broker.url, ['facegate/cameras/+/faces', 'facegate/privacy/+/state']);
    t.after(() => sub.close());
    const gw = await createGateway(
      { ...cfg, gateway: { ...cfg.gateway, id: 'gw-s' } },
      { log, ffmpeg: systemFfmpeg(), http: false },
    );
    let closing: Promise<void> | undefined;
    const closeGw = (): Promise<void> => (closing ??= gw.close());
    t.after(closeGw);
    const records = (): StateRecord[] => sub.json<StateRecord>(/\/privacy\/[^/]+\/state$/);
    await sub.waitFor(() => records().some((r) => r.camera === '000003'), 15_000, 'scheduled record');
    assert.deepEqual((({ since: _s, ...r }) => r)(records().find((r) => r.camera === '000003')!), {
      v: 1,
      camera: '000003',
      state: 'suspended',
      by: 'schedule',
      pinned: false,
      reason: 'tenants asked',
      gatewayId: 'gw-s',
    });
    // Wait for a face on camera 000001 or 000002, then suspend all cameras by command while it is open.
    await sub.waitFor(
      (m) => m.some((x) => x.topic.endsWith('/faces') && x.payload.includes('"start"')),
      40_000,
      'a face event',
    );
    const op = connectMqtt({ url: broker.url, clientId: 'operator-console' }, log);
    t.after(() => op.close({ force: true }));
    await op.waitConnected(10_000);
    assert.equal(op.protocolVersion, 5);
    const suspendedAt = Date.now();
    await op.publish(
      'facegate/privacy/set',
      JSON.stringify({ all: true, state: 'suspended', reason: 'police request 17' }),
      {
        qos: 1,
        userProperties: { clientId: 'operator-console' },
      },
    );
    await sub.waitFor(
      () => ['000001', '000002'].every((c) => records().some((r) => r.camera === c && r.by === 'command')),
      10_000,
      'command records',
    );
    const rec = records().find((r) => r.camera === '000001' && r.by === 'command')!;
    assert.equal(rec.state, 'suspended');
    assert.equal(rec.clientId, 'operator-console');
    assert.equal(rec.reason, 'police request 17');
    // Open tracks end as suspended, at once.
    const events = (): FaceEvent[] => sub.json<FaceEvent>(/\/faces$/);
    await waitFor(
      () =>
        events()
          .filter((e) => e.type === 'start')
          .every((s) => events().some((e) => e.type === 'end' && e.eventId === s.eventId)),
      5000,
      'open tracks ended',
    );
    assert.ok(events().some((e) => e.endReason === 'suspended'));
    const decoded0 = gw.stats().frames.decoded;
    await new Promise((r) => setTimeout(r, 12_000));
    // Three cameras with a keyframe a second give ~36 frames in 12 s. The rtsp ingest decodes only
    // one per camera every stallS/3 (3 s) while suspended, enough for the watchdog: ~12.
    const decoded = gw.stats().frames.decoded - decoded0;
    t.diagnostic(`frames decoded in 12 s while suspended: ${decoded}`);
    if (ingest === 'rtsp') assert.ok(decoded <= 18, `${decoded} frames decoded while suspended`);
    else assert.ok(decoded >= 24, `${decoded} frames decoded (ffmpeg decodes its keyframes regardless)`);
    assert.equal(gw.stats().cameras.online, 3, 'suspended cameras stay online');
    const during = events().filter((e) => e.type === 'start' && Date.parse(e.ts) > suspendedAt);
    assert.deepEqual(during, [], 'no face event while suspended');
    assert.ok(gw.privacy.stats().framesSuspended > 0);
    assert.ok(
      Number(gw.stats().frames.dropped['suspended']) > 0,
      'stats count frames dropped while suspended',
    );

    // Back to the schedule: 000001 and 000002 resume (by command, same sender), 000003 stays suspended.
    await op.publish(
      'facegate/privacy/set',
      JSON.stringify({ all: true, state: 'schedule', clientId: 'payload-sender' }),
      { qos: 1 },
    );
    await sub.waitFor(
      () => records().some((r) => r.camera === '000001' && r.state === 'active'),
      10_000,
      'resumed',
    );
    assert.equal(
      records()
        .filter((r) => r.camera === '000001')
        .at(-1)?.clientId,
      'payload-sender',
    );
    assert.ok(gw.privacy.control.suspended('000003'));
    await sub.waitFor(
      (m) =>
        m.some(
          (x) =>
            x.topic.endsWith('/faces') &&
            x.payload.includes('"start"') &&
            Date.parse((JSON.parse(x.payload) as FaceEvent).ts) > suspendedAt,
        ),
      40_000,
      'events again after resuming',
    );
    await closeGw();
    // A later reader gets each camera's last record, retained.
    const late = await collect(broker.url, ['facegate/privacy/+/state']);
    t.after(() => late.close());
    await late.waitFor((m) => m.length >= 3, 5000, 'retained records');
    assert.ok(late.messages.every((m) => m.retained));
    const last = new Map(late.json<StateRecord>(/state$/).map((r) => [r.camera, r.state]));
    assert.deepEqual(Object.fromEntries(last), {
      '000001': 'active',
      '000002': 'active',
      '000003': 'suspended',
    });
  });
