import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import { parseMessage, type FaceEvent } from '../contract/index.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';

for (const ingest of ['ffmpeg', 'rtsp'] as const)
  test(`end to end (${ingest} ingest): simulator -> RTSP -> gateway -> broker gives one start and one end per face appearance`, async (t) => {
    const broker = await startTestBroker();
    t.after(() => broker.stop());
    const { log } = captureLogger('silent');
    const cfg = testConfig([
      `mqtt.url=${broker.url}`,
      'city.cameras=3',
      'gateway.settleS=0.5',
      'gateway.crops=true',
      `gateway.ingest=${ingest}`,
    ]);
    const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
    t.after(() => sim.close());
    const sub = await collect(broker.url, [
      'facegate/cameras/+/faces',
      'facegate/cameras/+/status',
      'facegate/gateways/+/status',
    ]);
    t.after(() => sub.close());
    const gw = await createGateway(cfg, { log, ffmpeg: systemFfmpeg(), http: false });
    let closing: Promise<void> | undefined;
    const closeGateway = (): Promise<void> => (closing ??= gw.close());
    t.after(closeGateway);
    await sub.waitFor(
      (m) =>
        m.filter(
          (x) =>
            x.topic.endsWith('/status') && x.payload.includes('"online"') && x.topic.includes('/cameras/'),
        ).length === 3,
      20_000,
      'three cameras online',
    );
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 24_000));
    const to = Date.now();
    await closeGateway();

    // Every message received parses with its contract schema (contract/messages.ts).
    for (const m of sub.messages) {
      const r = parseMessage(m.topic, m.payload, 'facegate');
      assert.ok(r && r.status !== 'invalid', `${m.topic}: ${r?.status === 'invalid' ? r.error : 'not ours'}`);
    }
    const events = sub.json<FaceEvent>(/\/faces$/);
    const ids = new Set<string>();
    for (const ev of events) {
      const key = `${ev.eventId}:${ev.type}`;
      assert.ok(!ids.has(key), `duplicate ${key}`);
      ids.add(key);
    }
    const starts = events.filter((e) => e.type === 'start');
    // gateway.crops: start events carry a JPEG of the face; the others carry no image.
    // (At most two crops are encoded at once; a start beyond that goes without, so not every one has it.)
    const cropped = starts.filter((s) => s.crop !== undefined);
    assert.ok(
      cropped.length >= starts.length / 2,
      `${cropped.length} of ${starts.length} starts have a crop`,
    );
    for (const s of cropped)
      assert.ok(
        Buffer.from(s.crop ?? '', 'base64')
          .subarray(0, 2)
          .equals(Buffer.from([0xff, 0xd8])),
        'the crop is a JPEG',
      );
    assert.ok(events.every((e) => e.type === 'start' || e.crop === undefined));
    // A crop says when it must be deleted: the event time plus mqtt.messageExpiryS.
    for (const s of cropped)
      assert.equal(Date.parse(s.retainUntil ?? ''), Date.parse(s.ts) + cfg.mqtt.messageExpiryS * 1000);
    const ends = events.filter((e) => e.type === 'end');
    // Every start has exactly one end with the same eventId (the gateway closed cleanly), and the end
    // comes after it: a start waits for its crop, and the face's later events wait behind it (a face
    // seen first in the last frame before close used to lose its start and keep its end).
    assert.deepEqual(new Set(ends.map((e) => e.eventId)), new Set(starts.map((e) => e.eventId)));
    for (const e of ends)
      assert.ok(
        events.indexOf(e) > events.findIndex((s) => s.type === 'start' && s.eventId === e.eventId),
        `the end of ${e.eventId} came before its start`,
      );

    // Every face fully on screen for the whole window's interior gets a start event near its start.
    let expected = 0;
    for (const cam of ['000001', '000002', '000003']) {
      const truth = sim.fleet.truth(cam, from, to).filter((iv) => iv.isFace);
      for (const iv of truth) {
        if (iv.startMs < from + 2000 || iv.endMs > to - 1000) continue;
        expected++;
        const hit = starts.filter(
          (s) => s.cameraId === cam && Math.abs(Date.parse(s.ts) - iv.startMs) < 2500,
        );
        assert.equal(
          hit.length,
          1,
          `camera ${cam}: appearance ${iv.id} at ${new Date(iv.startMs).toISOString()} has ${hit.length} start events; starts: ${JSON.stringify(starts.filter((s) => s.cameraId === cam).map((s) => s.ts))}`,
        );
      }
    }
    assert.ok(expected >= 2, `the window must contain appearances (got ${expected})`);
    // No start event outside any true appearance (precision), allowing for decode and analysis delay.
    for (const s of starts) {
      const ts = Date.parse(s.ts);
      const truth = sim.fleet.truth(s.cameraId, ts - 4000, ts + 1000).filter((iv) => iv.isFace);
      assert.ok(
        truth.some((iv) => ts >= iv.startMs - 500 && ts <= iv.endMs + 2500),
        `start at ${s.ts} on ${s.cameraId} matches no face`,
      );
    }
  });
