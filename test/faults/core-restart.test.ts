// Edge to core: the gateways publish to their district's mosquitto, which forwards the city's
// topics to a core mosquitto over a bridge (QoS 1, clean session off). The core is SIGKILLed and
// restarted mid-run; the district queues what it could not forward and sends it when the bridge
// is back, so every start/end event reaches a consumer at the core (deduped by eventId + type).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway } from '../../gateway/index.ts';
import type { FaceEvent } from '../../gateway/tracker.ts';
import { startMosquitto } from '../helpers/broker.ts';
import { collect } from '../helpers/mqtt.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import { cleanup, figure, ingestSets, secs, sleep, testEachIngest } from './support.ts';

const OUTAGE_MS = 6000;

/**
 * config/mosquitto-district.conf with what only differs here: the core's address, and no listener,
 * persistence or logging lines (the test broker sets its own).
 */
function districtConf(corePort: number): string[] {
  return readFileSync(fileURLToPath(new URL('../../config/mosquitto-district.conf', import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .filter((l) => !/^(listener|persistence|autosave_interval|max_queued_messages|log_)/.test(l))
    .map((l) => (l.startsWith('address ') ? `address 127.0.0.1:${corePort}` : l));
}

testEachIngest(
  'core broker SIGKILLed behind a district bridge: no start/end event lost at the core',
  async (t, kind) => {
    const defer = cleanup(t);
    const core = await startMosquitto({ persistence: true });
    defer('core', () => core.stop());
    const conf = districtConf(core.port);
    assert.ok(
      conf.includes('cleansession false') && conf.includes('topic facegate/# out 1'),
      conf.join('\n'),
    );
    const district = await startMosquitto({ extraConf: conf });
    defer('district', () => district.stop());
    const { log } = captureLogger('silent');
    const cfg = testConfig([
      `mqtt.url=${district.url}`,
      'city.cameras=4',
      'gateway.settleS=0.5',
      ...ingestSets(kind),
    ]);
    const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
    defer('sim', () => sim.close());
    // The core's consumer keeps a persistent session, saved by the core before the crash.
    const atCore = await collect(core.url, ['facegate/cameras/+/faces', 'facegate/gateways/+/status'], {
      persistentSession: true,
      clientId: `core-consumer-${process.pid}`,
    });
    defer('core consumer', () => atCore.close());

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
    // Through the bridge: the gateway's retained status reaches the core.
    await atCore.waitFor((m) => m.some((x) => x.topic.endsWith('/status')), 15_000, 'the bridge forwarding');
    await sleep(1500); // the core saves its sessions every second

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
    await core.stop(true);
    await sleep(OUTAGE_MS);
    await core.restart();
    const upAt = Date.now();
    const duringOutage = produced.filter((p) => p.at >= downAt && p.at < upAt).length;
    await atCore.waitFor((m) => m.some((x) => x.at > upAt), 30_000, 'messages at the core after its restart');
    const recoveredMs = Math.min(...atCore.messages.filter((x) => x.at > upAt).map((x) => x.at)) - upAt;

    await sleep(8000);
    await closeGateway(); // ends the open tracks and flushes them to the district

    const want = new Set(
      produced.filter((p) => p.ev.type !== 'update').map((p) => `${p.ev.eventId}:${p.ev.type}`),
    );
    const keysOf = (): Set<string> =>
      new Set(atCore.json<FaceEvent>(/\/faces$/).map((e) => `${e.eventId}:${e.type}`));
    await waitFor(
      () => [...want].every((k) => keysOf().has(k)),
      20_000,
      'every produced start/end event at the core',
    ).catch(() => undefined);
    const got = keysOf();
    const lost = [...want].filter((k) => !got.has(k));
    const phantom = [...got].filter((k) => !want.has(k) && !k.endsWith(':update'));
    const received = atCore.messages.filter((m) => m.topic.endsWith('/faces')).length;

    figure(
      t,
      `FAULT core-restart (district bridge, ${kind} ingest): events ${want.size} (${duringOutage} during the core's outage), lost at the core ${lost.length}, messages at the core ${received}, outage ${secs(upAt - downAt)} s, forwarding again ${secs(recoveredMs)} s after the restart`,
    );
    assert.ok(want.size >= 4, `the run must produce events (got ${want.size})`);
    assert.ok(duringOutage >= 1, 'some events must be produced while the core is down');
    assert.deepEqual(lost, [], `produced but never at the core: ${lost.join(', ')}`);
    assert.deepEqual(phantom, [], `at the core but never produced: ${phantom.join(', ')}`);
    assert.ok(recoveredMs < 20_000, `the bridge took ${recoveredMs} ms to forward again`);
  },
);
