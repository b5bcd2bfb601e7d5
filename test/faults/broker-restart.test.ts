// Fault: the broker is SIGKILLed mid-run and restarted, on each gateway ingest. Every start/end event
// the gateway produced must reach a subscriber at least once; duplicates are allowed only as QoS 1
// redeliveries of events that were in flight around the outage (consumers dedupe by eventId + type).
// The gateway must be back within its reconnect cap (mqtt.reconnectMaxS), and what it made meanwhile
// must arrive while it runs, not only when it is closed. `npm run test:faults -- --repeat 10
// broker-restart` runs this ten times in a row.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway } from '../../gateway/index.ts';
import type { FaceEvent } from '../../gateway/tracker.ts';
import { startMosquitto } from '../helpers/broker.ts';
import { collect } from '../helpers/mqtt.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import { cleanup, figure, type IngestKind, ingestSets, secs, sleep, testEachIngest } from './support.ts';

const OUTAGE_MS = 5000;
/** mosquitto's start, the gateway's reconnect cap (mqtt.reconnectMaxS, the default), and room for a loaded machine. */
const BACK_WITHIN_MS = 1000 + 5000 + 3000;

async function brokerRestart(t: TestContext, ingest: IngestKind): Promise<void> {
  const defer = cleanup(t);
  const broker = await startMosquitto({ persistence: true });
  defer('broker', () => broker.stop());
  const logs = captureLogger('info');
  const { log } = logs;
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=4',
    'gateway.settleS=0.5',
    ...ingestSets(ingest),
  ]);
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  defer('sim', () => sim.close());
  // A persistent session: while the subscriber is away (the broker was down, or the gateway got
  // back first) the broker queues QoS 1 events for it, and the session survives the restart.
  const sub = await collect(broker.url, ['facegate/cameras/+/faces', 'facegate/gateways/+/status'], {
    persistentSession: true,
    clientId: `faults-broker-${ingest}-${process.pid}`,
  });
  defer('sub', () => sub.close());

  const produced: { ev: FaceEvent; at: number }[] = [];
  const gw = await createGateway(cfg, {
    log,
    ffmpeg: systemFfmpeg(),
    http: false,
    onEvent: (ev) => produced.push({ ev, at: Date.now() }),
  });
  let closing: Promise<void> | undefined;
  const closeGateway = (): Promise<void> => (closing ??= gw.close());
  defer('gateway', closeGateway);
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
  // The gateway may connect between mosquitto's first accept and restart() returning (the port
  // is polled), so "after the restart" means after restart() was called: nothing can connect
  // before that, the broker is dead.
  const restartAt = Date.now();
  await broker.restart();
  const upAt = Date.now();
  const duringOutage = produced.filter((p) => p.at >= downAt && p.at < upAt).length;

  // Recovery is the gateway's own `online` status from after the restart (it publishes it first
  // on every connection), not any message: the subscriber's resubscription brings back the
  // retained status of before the crash at once.
  const gwStatus = `facegate/gateways/${gw.id}/status`;
  const backAt = (): number | undefined =>
    sub.messages.find((m) => {
      if (m.topic !== gwStatus || m.retained) return false;
      const p = JSON.parse(m.payload) as { status?: string; ts?: string };
      return p.status === 'online' && Date.parse(p.ts ?? '') >= restartAt;
    })?.at;
  await waitFor(backAt, 30_000, 'the gateway online again after the broker restart').catch((err: Error) => {
    // Say which side did not come back: the gateway's link, the subscriber's, or the status.
    const seen = sub.messages
      .filter((m) => m.topic === gwStatus)
      .map((m) => `${m.retained ? 'retained ' : ''}${m.payload} at +${m.at - upAt} ms`);
    const mqttLog = logs.lines
      .filter((l) => /mqtt/.test(l.msg ?? ''))
      .map((l) => `${(l.time as number) - upAt} ms ${l.msg ?? ''} ${String(l.err ?? '')}`);
    throw new Error(
      `${err.message}; subscriber connected ${sub.link.connected}; status messages: ${seen.join(' | ')}; gateway mqtt log: ${mqttLog.join(' | ')}`,
    );
  });
  const recoveredMs = (backAt() ?? Infinity) - restartAt;

  // Keep running (events after the broker is back); everything made so far must arrive while the
  // gateway runs: closing it would flush what its link still held and hide a late reconnect.
  await sleep(6000);
  const keyOf = (ev: FaceEvent): string => `${ev.eventId}:${ev.type}`;
  const keysOf = (): Set<string> => new Set(sub.json<FaceEvent>(/\/faces$/).map(keyOf));
  const madeBy = (at: number): string[] =>
    produced.filter((p) => p.at < at && p.ev.type !== 'update').map((p) => keyOf(p.ev));
  const running = Date.now();
  const liveLost = await waitFor(
    () => madeBy(running).every((k) => keysOf().has(k)),
    15_000,
    'events delivered',
  ).then(
    () => [],
    () => madeBy(running).filter((k) => !keysOf().has(k)),
  );
  await closeGateway(); // ends the open tracks and flushes them

  const want = new Map<string, number>();
  for (const p of produced) if (p.ev.type !== 'update') want.set(keyOf(p.ev), p.at);
  await waitFor(
    () => [...want.keys()].every((k) => keysOf().has(k)),
    20_000,
    'every produced start/end event at the subscriber',
  ).catch(() => undefined);

  const got = sub
    .json<FaceEvent>(/\/faces$/)
    .filter((e) => e.type !== 'update')
    .map(keyOf);
  const counts = new Map<string, number>();
  for (const k of got) counts.set(k, (counts.get(k) ?? 0) + 1);
  const lost = [...want.keys()].filter((k) => !counts.has(k));
  const phantom = [...counts.keys()].filter((k) => !want.has(k));
  const dups = [...counts].filter(([, n]) => n > 1);
  const duplicates = dups.reduce((s, [, n]) => s + n - 1, 0);

  figure(
    t,
    `FAULT broker-restart (${ingest} ingest): events ${want.size} (${duringOutage} during the outage), lost ${lost.length}, duplicates ${duplicates} (QoS 1), outage ${secs(upAt - downAt)} s, gateway back ${secs(recoveredMs)} s after the broker's restart began`,
  );
  assert.ok(want.size >= 4, `the run must produce events (got ${want.size})`);
  assert.ok(duringOutage >= 1, 'some events must be produced while the broker is down');
  assert.deepEqual(lost, [], `produced but never received: ${lost.join(', ')}`);
  assert.deepEqual(liveLost, [], `not delivered while the gateway ran: ${liveLost.join(', ')}`);
  assert.deepEqual(phantom, [], `received but never produced: ${phantom.join(', ')}`);
  // A redelivery is of a message that was in flight when the link broke, not of later ones.
  for (const [k] of dups) {
    const at = want.get(k) ?? 0;
    assert.ok(
      at < restartAt + recoveredMs + 1000,
      `${k} produced ${at - upAt} ms after the restart was delivered twice`,
    );
  }
  assert.ok(recoveredMs < BACK_WITHIN_MS, `the gateway was back ${recoveredMs} ms after the broker`);
}

testEachIngest(
  'broker SIGKILLed and restarted: no start/end event lost, duplicates only as QoS 1 redeliveries',
  brokerRestart,
);
