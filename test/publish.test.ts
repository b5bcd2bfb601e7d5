import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { CameraStatusPayload as StatusPayload } from '../contract/status.ts';
import type { StatsMessage } from '../contract/stats.ts';
import { startEmbeddedBroker } from '../shared/broker.ts';
import { startMosquitto } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { collect } from './helpers/mqtt.ts';
import { startMqttProxy } from './helpers/mqtt-proxy.ts';
import {
  P,
  eventIds as ids,
  faceEvent,
  subscriberBack,
  testPublisher as publisher,
} from './helpers/publisher.ts';
import { captureLogger } from './helpers/logs.ts';
import { waitFor } from './helpers/net.ts';

test('events, retained deduplicated statuses, stats and a clean offline against mosquitto (MQTT 5)', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, [`${P}/#`]);
  t.after(() => sub.close());
  const pub = publisher(broker.url, { statsEveryS: 1 });
  t.after(() => pub.close({ timeoutMs: 1000 }));
  await pub.link.waitConnected(5000);
  assert.equal(pub.link.protocolVersion, 5);

  const e1 = faceEvent('cam-1');
  const e2 = faceEvent('cam-2');
  pub.event(e1);
  pub.event(e2);
  pub.event(faceEvent('bad/id')); // refused, counted, never a topic
  pub.cameraStatus('cam-1', 'online');
  pub.cameraStatus('cam-1', 'online'); // unchanged: not republished
  pub.cameraStatus('cam-2', 'unauthorized', '401 from camera');
  await sub.waitFor(
    (m) =>
      m.some((x) => x.topic.endsWith('/stats')) && m.filter((x) => x.topic.endsWith('/faces')).length === 2,
    5000,
    'events and stats',
  );
  assert.deepEqual(sub.json(new RegExp(`^${P}/cameras/cam-1/faces$`)), [e1]);
  assert.deepEqual(sub.json(new RegExp(`^${P}/cameras/cam-2/faces$`)), [e2]);
  const st1 = sub.json<StatusPayload>(/cam-1\/status$/);
  assert.equal(st1.length, 1);
  assert.equal(st1[0]?.status, 'online');
  assert.equal(st1[0]?.gatewayId, 'gw1');
  assert.deepEqual(
    sub.json<StatusPayload>(/cam-2\/status$/).map((s) => [s.status, s.detail]),
    [['unauthorized', '401 from camera']],
  );
  const gw = sub.json<StatusPayload>(new RegExp(`^${P}/gateways/gw1/status$`));
  assert.equal(gw.at(-1)?.status, 'online');
  const stats = sub.json<StatsMessage>(/gateways\/gw1\/stats$/).at(-1);
  assert.equal(stats?.v, 1);
  assert.equal(stats?.events.published, 2);
  assert.equal(stats?.events.droppedBy.invalid, 1);
  assert.equal(stats?.mqtt.protocol, 5);

  // A later subscriber sees retained statuses; clearCamera publishes nothing.
  pub.clearCamera('cam-2');
  const late = await collect(broker.url, [`${P}/cameras/+/status`, `${P}/gateways/+/status`]);
  t.after(() => late.close());
  await late.waitFor((m) => m.length >= 3, 5000, 'retained statuses');
  assert.ok(late.messages.every((m) => m.retained));

  await pub.close({ timeoutMs: 2000 });
  await sub.waitFor(
    (m) => m.some((x) => x.topic === `${P}/gateways/gw1/status` && x.payload.includes('"offline"')),
    5000,
    'gateway offline',
  );
  const off = sub.json<StatusPayload>(/gateways\/gw1\/status$/).at(-1);
  assert.deepEqual([off?.status, off?.detail], ['offline', 'shutdown']);
  assert.equal(sub.messages.filter((m) => m.topic.endsWith('/cam-2/status')).length, 1);
});

test('message expiry: an event queued for an offline subscriber expires on MQTT 5', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  // A persistent session that goes away: the broker queues QoS 1 events for it, honouring expiry.
  const clientId = `expiry-${process.pid}`;
  const first = await collect(broker.url, [`${P}/cameras/+/faces`], { persistentSession: true, clientId });
  await first.close();
  const short = publisher(broker.url, { gatewayId: 'gw-short', messageExpiryS: 1 });
  const none = publisher(broker.url, { gatewayId: 'gw-none', messageExpiryS: 0 });
  t.after(() => Promise.all([short.close({ timeoutMs: 1000 }), none.close({ timeoutMs: 1000 })]));
  const expiring = faceEvent('cam-x', 'gw-short');
  const kept = faceEvent('cam-y', 'gw-none');
  await Promise.all([short.link.waitConnected(5000), none.link.waitConnected(5000)]);
  short.event(expiring);
  none.event(kept);
  await waitFor(() => short.stats().published === 1 && none.stats().published === 1, 5000, 'acks');
  await new Promise((r) => setTimeout(r, 2200));
  const back = await collect(broker.url, [`${P}/cameras/+/faces`], { persistentSession: true, clientId });
  t.after(() => back.close());
  await back.waitFor((m) => m.length >= 1, 5000, 'the queued event');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(ids(back), [kept.eventId]);
});

test('broker SIGKILLed and restarted: every event of the outage arrives once, in order; statuses come back', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const gate = await startMqttProxy(broker.port);
  t.after(() => gate.close());
  const cap = captureLogger('warn');
  const pub = publisher(gate.url, {}, cap.log);
  t.after(() => pub.close({ timeoutMs: 1000 }));
  const sub = await collect(broker.url, [`${P}/cameras/+/faces`]);
  t.after(() => sub.close());
  await pub.link.waitConnected(5000);
  pub.cameraStatus('cam-a', 'online');

  const before = Array.from({ length: 5 }, () => faceEvent('cam-a'));
  for (const e of before) pub.event(e);
  await waitFor(() => pub.stats().published === 5, 5000, 'acks before the crash');

  gate.shut();
  await broker.stop(true); // SIGKILL: no persistence, sessions and retained messages are gone
  await waitFor(() => !pub.health().ok, 5000, 'the publisher to notice');
  const during = Array.from({ length: 20 }, (_, i) => faceEvent(i % 2 ? 'cam-a' : 'cam-b'));
  for (const e of during) pub.event(e);
  assert.equal(pub.stats().pending, 20);
  assert.equal(pub.stats().inflight, 0); // waiting in the outbox, not in mqtt.js' store

  await broker.restart();
  // The subscriber resubscribes on reconnect; it must be back before the publisher returns.
  await subscriberBack(sub);
  gate.open();
  const after = Array.from({ length: 5 }, () => faceEvent('cam-a'));
  await pub.link.waitConnected(5000);
  for (const e of after) pub.event(e);

  const want = [...before, ...during, ...after].map((e) => e.eventId);
  await sub.waitFor(() => want.every((id) => ids(sub).includes(id)), 15_000, 'every event');
  await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
  const got = ids(sub).filter((id) => !id.startsWith('probe-'));
  assert.equal(new Set(got).size, want.length);
  const outage = got.filter((id) => during.some((e) => e.eventId === id));
  assert.deepEqual(
    outage,
    during.map((e) => e.eventId),
    'outage events exactly once, in order',
  );
  assert.equal(pub.stats().dropped, 0);

  // The restarted broker lost retained messages; the publisher republished them on reconnect.
  const late = await collect(broker.url, [`${P}/cameras/cam-a/status`, `${P}/gateways/gw1/status`]);
  t.after(() => late.close());
  await late.waitFor((m) => m.length >= 2, 5000, 'republished statuses');
  assert.deepEqual(
    late
      .json<StatusPayload>(/status$/)
      .map((s) => s.status)
      .sort(),
    ['online', 'online'],
  );
});

test('last will: a gateway process killed with SIGKILL is reported offline by the broker', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, [`${P}/gateways/+/status`]);
  t.after(() => sub.close());
  const mod = (p: string): string => pathToFileURL(new URL(p, import.meta.url).pathname).href;
  const code = `
    import { createPublisher } from ${JSON.stringify(mod('../gateway/publish/publisher.ts'))};
    import { emptyGatewayStats } from ${JSON.stringify(mod('../contract/stats.ts'))};
    import { createLogger } from ${JSON.stringify(mod('../shared/log.ts'))};
    const pub = createPublisher({ gatewayId: 'gw-doomed', prefix: ${JSON.stringify(P)}, mqtt: { url: ${JSON.stringify(broker.url)} },
      outboxMax: 10, messageExpiryS: 0, statsEveryS: 0 }, { log: createLogger({ level: 'silent', format: 'json' }), getStats: emptyGatewayStats });
    await pub.link.waitConnected(5000);
    console.log('ready');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`child exited with ${c}`)));
  });
  await sub.waitFor((m) => m.some((x) => x.payload.includes('"online"')), 5000, 'gateway online');
  child.kill('SIGKILL');
  await sub.waitFor((m) => m.some((x) => x.payload.includes('"offline"')), 5000, 'the last will');
  const will = sub.json<StatusPayload>(/gw-doomed\/status$/).at(-1);
  assert.deepEqual(
    [will?.v, will?.status, will?.gatewayId, will?.detail],
    [1, 'offline', 'gw-doomed', 'connection lost'],
  );
});

test('falls back to MQTT 3.1.1 against aedes: events and retained statuses still flow', async (t) => {
  const { log } = captureLogger('silent');
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, log);
  t.after(() => broker.close());
  const sub = await collect(broker.url, [`${P}/#`]);
  t.after(() => sub.close());
  const pub = publisher(broker.url);
  t.after(() => pub.close({ timeoutMs: 1000 }));
  await pub.link.waitConnected(5000);
  await waitFor(() => pub.health().ok, 5000, 'online');
  assert.equal(pub.link.protocolVersion, 4);
  const e = faceEvent('cam-9');
  pub.event(e);
  pub.cameraStatus('cam-9', 'unreachable', 'timeout');
  await sub.waitFor(
    (m) => m.some((x) => x.topic.endsWith('/faces')) && m.some((x) => x.topic.endsWith('cam-9/status')),
    5000,
    'event and status',
  );
  assert.deepEqual(sub.json(/cam-9\/faces$/), [e]);
  assert.equal(sub.json<StatusPayload>(/cam-9\/status$/)[0]?.status, 'unreachable');
  await pub.close({ timeoutMs: 2000 });
  await sub.waitFor(
    (m) => m.some((x) => x.topic.endsWith('gw1/status') && x.payload.includes('"offline"')),
    5000,
    'offline',
  );
});

test('a full outbox while the broker is away drops the oldest, warns with the count, then delivers the rest in order', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const gate = await startMqttProxy(broker.port);
  t.after(() => gate.close());
  gate.shut();
  const cap = captureLogger('info');
  const pub = publisher(gate.url, { outboxMax: 4 }, cap.log);
  t.after(() => pub.close({ timeoutMs: 1000 }));
  const sub = await collect(broker.url, [`${P}/cameras/+/faces`]);
  t.after(() => sub.close());
  const evs = Array.from({ length: 10 }, () => faceEvent('cam-o'));
  for (const e of evs) pub.event(e);
  assert.deepEqual([pub.stats().pending, pub.stats().dropped, pub.stats().droppedBy.overflow], [4, 6, 6]);
  const warns = cap.lines.filter((l) => l.level === 40 && /outbox full/.test(String(l.msg)));
  assert.equal(warns.length, 1, 'one warning per 10 s');
  assert.equal(warns[0]?.dropped, 1);
  gate.open();
  await sub.waitFor((m) => m.length >= 4, 10_000, 'the kept events');
  assert.deepEqual(
    ids(sub),
    evs.slice(6).map((e) => e.eventId),
  );
  await pub.close({ timeoutMs: 1000 });
  // The remaining count is not lost: it is reported at the latest on close.
  const total = cap.lines
    .filter((l) => /outbox full/.test(String(l.msg)))
    .reduce((a, l) => a + Number(l.dropped), 0);
  assert.equal(total, 6);
});
