// Fault: the broker is SIGKILLed mid-run and restarted. Every start/end event the gateway produced
// must reach a subscriber at least once; duplicates are allowed only as QoS 1 redeliveries of
// events that were in flight around the outage (consumers dedupe by eventId + type).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway } from '../../gateway/index.ts';
import type { FaceEvent } from '../../gateway/tracker.ts';
import { startMosquitto } from '../helpers/broker.ts';
import { collect } from '../helpers/mqtt.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import { cleanup, figure, secs, sleep } from './support.ts';

const OUTAGE_MS = 5000;

test('broker SIGKILLed and restarted: no start/end event lost, duplicates only as QoS 1 redeliveries', async (t) => {
  const defer = cleanup(t);
  const broker = await startMosquitto({ persistence: true });
  defer('broker', () => broker.stop());
  const { log } = captureLogger('silent');
  const cfg = testConfig([`mqtt.url=${broker.url}`, 'city.cameras=4', 'gateway.settleS=0.5']);
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  defer('sim', () => sim.close());
  // A persistent session: while the subscriber is away (the broker was down, or the gateway got
  // back first) the broker queues QoS 1 events for it, and the session survives the restart.
  const sub = await collect(broker.url, ['facegate/cameras/+/faces', 'facegate/gateways/+/status'], {
    persistentSession: true,
    clientId: `faults-broker-${process.pid}`,
  });
  defer('sub', () => sub.close());

  const produced: { ev: FaceEvent; at: number }[] = [];
  const gw = await createGateway(cfg, {
    log,
    ffmpeg: systemFfmpeg(),
    http: false,
    onEvent: (ev) => produced.push({ ev, at: Date.now() }),
  });
  let closed: boolean = false;
  defer('gateway', async () => {
    if (!closed) await gw.close();
  });
  await waitFor(() => gw.stats().cameras.online === 4, 30_000, 'four cameras online');
  // mosquitto saves its state every second: the subscription must be on disk before the crash.
  await sleep(1500);

  // Crash the broker when the ground truth says faces appear during the outage, so start events
  // are produced while it is down (the gateway reports a face within a second or so).
  const cams = sim.fleet.list().map((c) => c.id);
  const startsIn = (from: number, to: number): number =>
    cams.reduce(
      (n, id) =>
        n +
        sim.fleet.truth(id, from, to).filter((iv) => iv.isFace && iv.startMs >= from && iv.startMs < to)
          .length,
      0,
    );
  await waitFor(
    () => produced.length >= 2 && startsIn(Date.now() + 300, Date.now() + OUTAGE_MS - 1500) >= 2,
    60_000,
    'faces appearing in the next seconds',
  );
  const downAt = Date.now();
  await broker.stop(true);
  await sleep(OUTAGE_MS);
  await broker.restart();
  const upAt = Date.now();
  const duringOutage = produced.filter((p) => p.at >= downAt && p.at < upAt).length;

  // The first gateway message after the restart marks recovery (it republishes its status first).
  await sub.waitFor(
    (m) => m.some((x) => x.at > upAt),
    30_000,
    'a message from the gateway after the broker restart',
  );
  const recoveredMs = Math.min(...sub.messages.filter((x) => x.at > upAt).map((x) => x.at)) - upAt;

  await sleep(8000);
  closed = true;
  await gw.close(); // ends the open tracks and flushes them

  const want = new Map<string, number>();
  for (const p of produced)
    if (p.ev.type === 'start' || p.ev.type === 'end') want.set(`${p.ev.eventId}:${p.ev.type}`, p.at);
  const keysOf = (): string[] => sub.json<FaceEvent>(/\/faces$/).map((e) => `${e.eventId}:${e.type}`);
  await waitFor(
    () => [...want.keys()].every((k) => keysOf().includes(k)),
    20_000,
    'every produced start/end event at the subscriber',
  ).catch(() => undefined);

  const got = keysOf().filter((k) => /:(start|end)$/.test(k));
  const counts = new Map<string, number>();
  for (const k of got) counts.set(k, (counts.get(k) ?? 0) + 1);
  const lost = [...want.keys()].filter((k) => !counts.has(k));
  const phantom = [...counts.keys()].filter((k) => !want.has(k));
  const dups = [...counts].filter(([, n]) => n > 1);
  const duplicates = dups.reduce((s, [, n]) => s + n - 1, 0);

  figure(
    t,
    `FAULT broker-restart: events ${want.size} (${duringOutage} during the outage), lost ${lost.length}, duplicates ${duplicates} (QoS 1), outage ${secs(upAt - downAt)} s, recovered in ${secs(recoveredMs)} s`,
  );
  assert.ok(want.size >= 4, `the run must produce events (got ${want.size})`);
  assert.ok(duringOutage >= 1, 'some events must be produced while the broker is down');
  assert.deepEqual(lost, [], `produced but never received: ${lost.join(', ')}`);
  assert.deepEqual(phantom, [], `received but never produced: ${phantom.join(', ')}`);
  // A redelivery is of a message that was in flight when the link broke, not of later ones.
  for (const [k] of dups) {
    const at = want.get(k) ?? 0;
    assert.ok(
      at < upAt + recoveredMs + 1000,
      `${k} produced ${at - upAt} ms after the restart was delivered twice`,
    );
  }
  assert.ok(recoveredMs < 15_000, `recovery took ${recoveredMs} ms`);
});
