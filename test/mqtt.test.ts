import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectMqtt, jitteredBackoff } from '../shared/mqtt.ts';
import { startEmbeddedBroker } from '../shared/broker.ts';
import { startMosquitto } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { captureLogger } from './helpers/logs.ts';
import { collect } from './helpers/mqtt.ts';
import { freePort } from './helpers/net.ts';

test('falls back to MQTT 3.1.1 against aedes and still delivers QoS 1', async (t) => {
  const { log } = captureLogger('silent');
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, log);
  t.after(() => broker.close());
  const sub = await collect(broker.url, ['t/#']);
  t.after(() => sub.close());
  assert.equal(sub.link.protocolVersion, 4);
  const pub = connectMqtt({ url: broker.url, clientId: 'pub-aedes' }, log);
  t.after(() => pub.close());
  await pub.waitConnected(5000);
  await pub.publish('t/a', 'hello', { qos: 1, expiryS: 10 });
  await sub.waitFor((m) => m.some((x) => x.payload === 'hello'), 5000);
});

test('speaks MQTT 5 to mosquitto with message expiry', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const pub = connectMqtt({ url: broker.url, clientId: 'pub-mosq' }, log);
  t.after(() => pub.close());
  await pub.waitConnected(5000);
  assert.equal(pub.protocolVersion, 5);
  // Expired before the subscriber arrives: a retained message with 1 s expiry is gone after 2 s.
  await pub.publish('t/expiring', 'x', { qos: 1, retain: true, expiryS: 1 });
  await pub.publish('t/kept', 'y', { qos: 1, retain: true });
  await new Promise((r) => setTimeout(r, 2100));
  const sub = await collect(broker.url, ['t/#']);
  t.after(() => sub.close());
  await sub.waitFor((m) => m.some((x) => x.topic === 't/kept'), 5000);
  assert.equal(sub.messages.filter((m) => m.topic === 't/expiring').length, 0);
});

test('reconnects after the broker crashed, and a publish made meanwhile is delivered', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const pub = connectMqtt({ url: broker.url, clientId: 'pub-re', backoffMinMs: 100, backoffMaxMs: 500 }, log);
  t.after(() => pub.close());
  await pub.waitConnected(5000);
  await broker.stop(true);
  const pending = pub.publish('t/late', 'while-down', { qos: 1, retain: true });
  await broker.restart();
  await pending; // acknowledged by the new broker process, so it was resent after reconnecting
  // Retained, so the check does not race the subscriber's own reconnect.
  const sub = await collect(broker.url, ['t/#']);
  t.after(() => sub.close());
  await sub.waitFor(
    (m) => m.some((x) => x.payload === 'while-down'),
    10_000,
    'the message published while the broker was down',
  );
});

test('waitConnected fails with one clear line when nothing listens', async (t) => {
  const { log } = captureLogger('silent');
  const port = await freePort();
  const link = connectMqtt({ url: `mqtt://u:secret@127.0.0.1:${port}`, clientId: 'nobody' }, log);
  t.after(() => link.close({ force: true }));
  await assert.rejects(link.waitConnected(800), (err: Error) => {
    assert.match(err.message, /cannot reach the broker at mqtt:\/\/u:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(err.message, /secret|\n/);
    return true;
  });
});

test('backoff has full jitter within bounds', () => {
  const seq = [0, 0.5, 1].map((r) => jitteredBackoff(3, 100, 1000, () => r));
  assert.deepEqual(seq, [50, 400, 800]);
  assert.equal(
    jitteredBackoff(30, 100, 1000, () => 1),
    1000,
  );
});
