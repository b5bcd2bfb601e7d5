// QoS 1 events in flight when the broker crashes. The publisher gives mqtt.js its stores back on
// reconnect(), so what was handed over but not acknowledged is resent before anything new: every
// event arrives at least once (consumers dedupe by eventId + type), only in-flight ones twice,
// whichever point of the exchange the crash hits, on MQTT 5 and on 3.1.1. A proxy between the
// publisher and mosquitto stops the exchange at that point; the crash is a real SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceEvent } from '../gateway/tracker.ts';
import { startMosquitto } from './helpers/broker.ts';
import { startMqttProxy, type Direction, type MqttProxy } from './helpers/mqtt-proxy.ts';
import { collect } from './helpers/mqtt.ts';
import { waitFor } from './helpers/net.ts';
import { P, eventIds, faceEvent, subscriberBack, testPublisher } from './helpers/publisher.ts';

const POINTS = {
  /** The PUBLISH packets are written but held in the proxy: the broker never saw them. */
  'PUBLISH not at the broker': 'toBroker',
  /** The broker took them (and delivered them) but its PUBACKs are held: the client must resend. */
  'PUBACK held': 'toClient',
  /**
   * Like "PUBACK held", then after the restart the client reconnects and resends its store one
   * message at a time; that PUBACK is held too, so the link has not yet resubscribed, republished
   * its statuses or resumed the outbox when the broker crashes a second time.
   */
  'between reconnect and resubscribe': 'toClient',
} as const satisfies Record<string, Direction>;

const batch = (k: number): FaceEvent[] => Array.from({ length: k }, (_, i) => faceEvent(`cam-${i % 3}`));

/** Waits for `k` more packets of the kind that marks the point: PUBLISH seen, or PUBACK sent. */
async function heldAtPoint(proxy: MqttProxy, dir: Direction, base: number, k: number): Promise<void> {
  const type = dir === 'toBroker' ? 'publish' : 'puback';
  await waitFor(() => proxy.count(dir, type) - base >= k, 5000, `${k} ${type} packets held`);
}

for (const protocol of [5, 4] as const)
  for (const [point, dir] of Object.entries(POINTS))
    test(`MQTT ${protocol === 5 ? '5' : '3.1.1'}: broker SIGKILLed with QoS 1 events in flight (${point}): every event arrives`, async (t) => {
      const broker = await startMosquitto();
      t.after(() => broker.stop());
      // Both ends go through proxies; on 3.1.1 these answer MQTT 5 as aedes does, so both fall back.
      const pubProxy = await startMqttProxy(broker.port);
      const subProxy = await startMqttProxy(broker.port);
      t.after(() => Promise.all([pubProxy.close(), subProxy.close()]));
      pubProxy.refuseMqtt5 = protocol === 4;
      subProxy.refuseMqtt5 = protocol === 4;
      const sub = await collect(subProxy.url, [`${P}/cameras/+/faces`]);
      t.after(() => sub.close());
      const pub = testPublisher(pubProxy.url);
      t.after(() => pub.close({ timeoutMs: 1000 }));
      await waitFor(() => pub.health().ok, 5000, 'the publisher online');
      assert.deepEqual([pub.link.protocolVersion, sub.link.protocolVersion], [protocol, protocol]);
      assert.ok(pubProxy.levels.every((l) => l === protocol));
      // Like a gateway (it follows gateway statuses), the link has a subscription to restore.
      await pub.link.subscribe(`${P}/gateways/+/status`);
      const subscribes = (): number => pubProxy.count('toBroker', 'subscribe');
      const subscribed = subscribes();

      const before = batch(3);
      for (const e of before) pub.event(e);
      await waitFor(() => pub.stats().published === 3, 5000, 'acks before the crash');

      // Crash 1 with ten events handed to mqtt.js and stopped at the point.
      const kind = dir === 'toBroker' ? 'publish' : 'puback';
      pubProxy.hold(dir);
      const inflight = batch(10);
      const base = pubProxy.count(dir, kind);
      for (const e of inflight) pub.event(e);
      await heldAtPoint(pubProxy, dir, base, 10);
      assert.deepEqual([pub.stats().inflight, pub.stats().published], [10, 3]);
      pubProxy.shut();
      await broker.stop(true);
      await waitFor(() => !pub.link.connected, 5000, 'the publisher to notice');
      pubProxy.release(dir); // nothing left: the held packets died with the connection
      const during = batch(5);
      for (const e of during) pub.event(e);
      await broker.restart();
      await subscriberBack(sub);

      const more: FaceEvent[] = [];
      if (point === 'between reconnect and resubscribe') {
        const resent = pubProxy.count('toBroker', 'publish');
        const acked = pubProxy.count('toClient', 'puback');
        pubProxy.hold('toClient', { after: 'connack' });
        pubProxy.open();
        await waitFor(
          () =>
            pubProxy.count('toBroker', 'publish') > resent && pubProxy.count('toClient', 'puback') > acked,
          10_000,
          'the first stored event resent and its PUBACK held',
        );
        assert.ok(pub.link.connected && !pub.health().ok, 'reconnected, store not yet through');
        assert.equal(subscribes(), subscribed, 'not resubscribed yet');
        more.push(...batch(5));
        for (const e of more) pub.event(e);
        pubProxy.shut();
        await broker.stop(true);
        await waitFor(() => !pub.link.connected, 5000, 'the publisher to notice crash 2');
        pubProxy.release('toClient');
        await broker.restart();
        await subscriberBack(sub);
      }

      pubProxy.open();
      await waitFor(() => pub.health().ok, 10_000, 'the publisher back');
      await waitFor(() => subscribes() > subscribed, 5000, 'the link to resubscribe');
      const after = batch(3);
      for (const e of after) pub.event(e);

      const made = [...before, ...inflight, ...during, ...more, ...after].map((e) => e.eventId);
      await sub.waitFor(() => made.every((id) => eventIds(sub).includes(id)), 15_000, 'every event');
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
      const got = eventIds(sub).filter((id) => !id.startsWith('probe-'));
      assert.deepEqual([...new Set(got)], made, 'each event at least once, first arrivals in the order made');
      const twice = got.filter((id, i) => got.indexOf(id) !== i);
      const inflightIds = new Set(inflight.map((e) => e.eventId));
      assert.deepEqual(
        twice.filter((id) => !inflightIds.has(id)),
        [],
        'only events in flight at a crash come twice',
      );
      assert.deepEqual([pub.stats().published, pub.stats().dropped], [made.length, 0]);
      t.diagnostic(`${made.length} events, ${twice.length} redelivered`);
    });
