// Fault: one gateway of three is SIGKILLed. Its last will tells the others, which take its cameras:
// afterwards the retained camera statuses show every camera online under a live gateway.
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway, type Gateway } from '../../gateway/index.ts';
import { assigned } from '../../shared/membership.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { collect } from '../helpers/mqtt.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import {
  childrenOf,
  cityArgs,
  cleanup,
  figure,
  ingestArgs,
  ingestSets,
  isAlive,
  latestStatuses,
  secs,
  spawnCli,
  testEachIngest,
} from './support.ts';

const CAMERAS = 9;

testEachIngest(
  'a gateway SIGKILLed among three: its cameras move, every camera online under a live gateway (retained statuses)',
  async (t, kind) => {
    const defer = cleanup(t);
    const broker = await startTestBroker();
    defer('broker', () => broker.stop());
    const { log } = captureLogger('silent');
    const sets = [
      `mqtt.url=${broker.url}`,
      `city.cameras=${CAMERAS}`,
      'gateway.settleS=1',
      ...ingestSets(kind),
    ];
    const sim = await createSimulator(testConfig(sets), { log, ffmpeg: systemFfmpeg() });
    defer('sim', () => sim.close());
    const sub = await collect(broker.url, ['facegate/cameras/+/status', 'facegate/gateways/+/status']);
    defer('sub', () => sub.close());

    const gws: Gateway[] = [];
    defer('gateways', () => Promise.allSettled(gws.map((g) => g.close())));
    for (const id of ['gw-a', 'gw-b'])
      gws.push(
        await createGateway(testConfig([...sets, `gateway.id=${id}`]), {
          log,
          ffmpeg: systemFfmpeg(),
          http: false,
        }),
      );
    const c = spawnCli([
      'gateway',
      '--mqtt-url',
      broker.url,
      '--id',
      'gw-c',
      '--set',
      'gateway.settleS=1',
      '--set',
      'http.port=0',
      '--set',
      'log.level=warn',
      ...cityArgs,
      ...ingestArgs(kind),
    ]);
    const orphans: number[] = [];
    defer('gw-c', async () => {
      await c.kill();
      for (const pid of orphans) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });

    const members = ['gw-a', 'gw-b', 'gw-c'];
    const share = (id: string, of: string[]): string[] =>
      assigned(sim.fleet.list(), of, id)
        .map((x) => x.id)
        .sort();
    const cCams = share('gw-c', members);
    assert.ok(cCams.length > 0, 'gw-c owns some cameras');
    const settled = (live: string[]): boolean => {
      const l = latestStatuses(sub);
      return live.every((g) =>
        share(g, live).every((cam) => l.get(cam)?.status === 'online' && l.get(cam)?.gatewayId === g),
      );
    };
    await waitFor(
      () => settled(members),
      45_000,
      'every camera online under its rendezvous owner of three',
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${[...latestStatuses(sub).values()].map((s) => `${s.camera}=${s.status}@${s.gatewayId}`).join(' ')}\n${c.output().slice(-2000)}`,
      );
    });
    orphans.push(...childrenOf(c.proc.pid ?? -1));
    assert.ok(orphans.length > 0, 'gw-c runs ffmpeg decoders');

    const killedAt = Date.now();
    await c.kill();
    await waitFor(
      () => settled(['gw-a', 'gw-b']),
      30_000,
      'gw-a and gw-b to report every camera online',
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${[...latestStatuses(sub).values()].map((s) => `${s.camera}=${s.status}@${s.gatewayId}`).join(' ')}`,
      );
    });
    const takeoverMs = Date.now() - killedAt;
    const willSeen = sub.messages.find(
      (m) =>
        m.at >= killedAt && m.topic === 'facegate/gateways/gw-c/status' && m.payload.includes('"offline"'),
    );

    // A newcomer reads only retained state: it must see every camera online under a live gateway.
    const fresh = await collect(broker.url, ['facegate/cameras/+/status', 'facegate/gateways/+/status']);
    defer('fresh', () => fresh.close());
    await fresh.waitFor(
      (m) =>
        m.filter((x) => x.retained && x.topic.includes('/cameras/')).length >= CAMERAS &&
        m.filter((x) => x.topic.includes('/gateways/')).length >= 3,
      10_000,
      'the retained statuses',
    );
    const gwStatus = new Map(
      fresh.messages
        .filter((m) => m.topic.includes('/gateways/'))
        .map((m) => [m.topic.split('/')[2] ?? '', (JSON.parse(m.payload) as { status: string }).status]),
    );
    const retained = latestStatuses(fresh);
    const bad = sim.fleet
      .list()
      .map((cam) => cam.id)
      .filter((id) => {
        const s = retained.get(id);
        return s?.status !== 'online' || gwStatus.get(s.gatewayId) !== 'online';
      });
    await waitFor(
      () => orphans.every((pid) => !isAlive(pid)),
      10_000,
      "the killed gateway's decoders to exit",
    ).catch(() => undefined);
    const left = orphans.filter(isAlive);
    const moved = cCams.map((id) => `${id}->${retained.get(id)?.gatewayId ?? '?'}`);

    figure(
      t,
      `FAULT gateway-kill (${kind} ingest): 3 gateways, ${CAMERAS} cameras, gw-c SIGKILLed with ${cCams.length}, last will ${willSeen ? `after ${secs(willSeen.at - killedAt)} s` : 'not seen'}, takeover in ${secs(takeoverMs)} s (${moved.join(' ')}), ${CAMERAS - bad.length}/${CAMERAS} retained online under a live gateway, ${left.length} orphan decoders`,
    );
    assert.equal(gwStatus.get('gw-c'), 'offline', 'the retained status of gw-c is its last will');
    assert.deepEqual(
      bad,
      [],
      `cameras not online under a live gateway: ${bad.map((id) => `${id}=${JSON.stringify(retained.get(id))}`).join(' ')}`,
    );
    for (const g of gws)
      assert.deepEqual(
        [...g.cameras()].sort(),
        share(g.id, ['gw-a', 'gw-b']),
        `${g.id} holds its share of two`,
      );
    assert.deepEqual(left, [], `decoders of the killed gateway still running: ${left.join(', ')}`);
  },
);
