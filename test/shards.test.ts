// Simulator shards: several simulators serve disjoint parts of one city, with the ids, metadata
// and ground truth one simulator gives; their consumers merge the shards' catalogs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulator, type Simulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import { parseShard, shardOwns, type ShardSpec } from '../simulator/shard.ts';
import { rawExchange } from '../simulator/rtsp/load-reader.ts';
import { createCatalogMerge } from '../contract/catalog.ts';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../shared/errors.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect, type Collector } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { waitFor } from './helpers/net.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';
import { cityArgs, cleanup, latestStatuses, spawnCli } from './faults/support.ts';

interface CatalogCam {
  id: string;
  url: string;
  district: string;
  building: number;
  entrance: number;
}

/** The latest catalog per topic, merged as the gateways merge them. */
function mergedCatalog(sub: Collector, prefix: string): CatalogCam[] {
  const merge = createCatalogMerge<CatalogCam>();
  for (const m of sub.messages) {
    const shard = new RegExp(`^${prefix}/simulator/(?:shards/([^/]+)/)?catalog$`).exec(m.topic);
    if (!shard) continue;
    merge.set(
      shard[1] ?? '',
      m.payload === '' ? undefined : (JSON.parse(m.payload) as { cameras: CatalogCam[] }).cameras,
    );
  }
  return merge.list();
}

const meta = (c: CatalogCam): string => `${c.id} ${c.district} ${c.building} ${c.entrance}`;

test('shards: k/n, a-b and auto split every camera index to exactly one shard; bad specs exit 2', () => {
  const specs = (n: number): ShardSpec[] =>
    Array.from({ length: n }, (_, k) => ({ kind: 'modulo', k: k + 1, n }));
  for (const n of [1, 2, 3, 8]) {
    const owns = specs(n).map((s) => shardOwns(s, 'x', []));
    for (let i = 0; i < 1000; i++)
      assert.equal(owns.filter((o) => o(i)).length, 1, `index ${i} of ${n} shards`);
  }
  const members = ['sim-a', 'sim-b', 'sim-c'];
  const auto = members.map((m) => shardOwns({ kind: 'auto' }, m, members));
  const counts = members.map(() => 0);
  for (let i = 0; i < 3000; i++) {
    const owners = auto.flatMap((o, j) => (o(i) ? [j] : []));
    assert.equal(owners.length, 1, `index ${i}: one auto owner`);
    counts[owners[0] ?? 0]! += 1;
  }
  assert.ok(Math.min(...counts) > 800, `auto shards are even: ${counts.join('/')}`);
  const range = shardOwns({ kind: 'range', from: 3, to: 5 }, 'x', []);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((i) => range(i)),
    [false, false, true, true, true, false],
  );
  assert.deepEqual(parseShard('2/8'), { kind: 'modulo', k: 2, n: 8 });
  for (const bad of ['3/2', '0/2', '5-2', 'x', '1/0', 'auto/2']) {
    assert.throws(
      () => loadConfig({ sets: [`simulator.shard=${bad}`] }),
      (err: unknown) =>
        err instanceof ConfigError && err.exitCode === 2 && err.message.includes('simulator.shard'),
      bad,
    );
  }
});

test('shards: two shard simulators give the catalog, metadata and truth of one simulator; control reaches both; a gateway takes the merged city', async (t) => {
  const defer = cleanup(t);
  const broker = await startTestBroker();
  defer('broker', () => broker.stop());
  const { log } = captureLogger('silent');
  const base = [`mqtt.url=${broker.url}`, 'city.cameras=9', 'simulator.publishTruth=true'];
  const sims: Simulator[] = [];
  defer('simulators', () => Promise.allSettled(sims.map((s) => s.close())));
  const start = async (sets: string[]): Promise<Simulator> => {
    const s = await createSimulator(testConfig([...base, ...sets]), { log, ffmpeg: systemFfmpeg() });
    sims.push(s);
    return s;
  };
  // The same city twice on one broker: whole under prefix `one`, in two shards under `two`.
  const one = await start(['mqtt.prefix=one']);
  const s1 = await start(['mqtt.prefix=two', 'simulator.shard=1/2']);
  const s2 = await start(['mqtt.prefix=two', 'simulator.shard=2/2']);
  const sub = await collect(broker.url, ['one/simulator/#', 'two/simulator/#', 'one/truth/#', 'two/truth/#']);
  defer('sub', () => sub.close());

  const sameCity = async (n: number): Promise<void> => {
    await sub.waitFor(
      () => mergedCatalog(sub, 'one').length === n && mergedCatalog(sub, 'two').length === n,
      10_000,
      `both cities with ${n} cameras`,
    );
    const whole = mergedCatalog(sub, 'one');
    const merged = mergedCatalog(sub, 'two');
    assert.deepEqual(merged.map(meta), whole.map(meta), 'same ids and metadata');
    // Each camera at the shard that serves it, and only there.
    const byPort = new Map([
      [s1.port, s1],
      [s2.port, s2],
    ]);
    for (const c of merged) {
      const port = Number(new URL(c.url).port);
      const owner = byPort.get(port);
      assert.ok(owner, `${c.id} at a shard's port`);
      assert.ok(owner.fleet.get(c.id), `${c.id} served by its shard`);
      assert.equal((port === s1.port ? s2 : s1).fleet.get(c.id), undefined, `${c.id} not by the other`);
    }
  };
  await sameCity(9);
  assert.deepEqual(
    s1.fleet.list().map((c) => c.id),
    ['000001', '000003', '000005', '000007', '000009'],
  );
  assert.equal(s1.shardId, '1of2');
  const statuses = sub.json<{ status: string; shard?: string; cameras: number }>(
    /^two\/simulator\/shards\/.+\/status$/,
  );
  await sub.waitFor(
    () => sub.messages.some((m) => m.topic === 'two/simulator/shards/2of2/status'),
    10_000,
    'shard statuses',
  );
  assert.ok(
    statuses.every((s) => s.status === 'online'),
    JSON.stringify(statuses),
  );

  // Ground truth: a shard's cameras have the whole city's appearances, to the millisecond.
  const from = Date.now() - 600_000;
  const to = Date.now() + 600_000;
  for (const c of one.fleet.list()) {
    const shard = s1.fleet.get(c.id) ? s1 : s2;
    assert.deepEqual(shard.fleet.truth(c.id, from, to), one.fleet.truth(c.id, from, to), `truth of ${c.id}`);
  }

  // RTSP: a shard answers for its cameras and 404s the others'.
  const describe = (port: number, id: string): Promise<string> =>
    rawExchange(
      '127.0.0.1',
      port,
      `DESCRIBE rtsp://127.0.0.1:${port}/cam/${id} RTSP/1.0\r\nCSeq: 2\r\n\r\n`,
      2000,
    );
  assert.match(await describe(s1.port, '000003'), /^RTSP\/1\.0 200/);
  assert.match(await describe(s1.port, '000004'), /^RTSP\/1\.0 404/);
  assert.match(await describe(s2.port, '000004'), /^RTSP\/1\.0 200/);

  // One control message, every shard: the merged city follows.
  await sub.link.publish('two/simulator/set', JSON.stringify({ cameras: 14 }), { qos: 1 });
  await sub.link.publish('one/simulator/set', JSON.stringify({ cameras: 14 }), { qos: 1 });
  await sameCity(14);
  assert.equal(s2.fleet.count(), 14);
  assert.equal(s2.fleet.list().length, 7);

  // Truth over MQTT: the shards' messages together are the whole simulator's, from a few seconds.
  const truthKeys = (prefix: string, since: number): string[] =>
    sub.messages
      .filter((m) => m.topic.startsWith(`${prefix}/truth/`))
      .map((m) => JSON.parse(m.payload) as { camera: string; appearance: string; type: string; ts: string })
      .filter((x) => Date.parse(x.ts) >= since && Date.parse(x.ts) < since + 4000)
      .map((x) => `${x.camera} ${x.appearance} ${x.type} ${x.ts}`)
      .sort();
  const since = Date.now() + 1500;
  await waitFor(() => Date.now() > since + 5500, 10_000, 'truth for a few seconds');
  assert.deepEqual(truthKeys('two', since), truthKeys('one', since));

  // A gateway consumes the merged catalog: all 14 cameras, pulled from both shards, online.
  const gw = await createGateway(
    testConfig([...base, 'mqtt.prefix=two', 'gateway.id=gw-shards', 'gateway.settleS=1']),
    { log, ffmpeg: systemFfmpeg(), http: false },
  );
  defer('gateway', () => gw.close());
  const cams = await collect(broker.url, ['two/cameras/+/status']);
  defer('cams', () => cams.close());
  const online = (): string[] =>
    [...latestStatuses(cams).values()].filter((s) => s.status === 'online').map((s) => s.camera);
  await waitFor(() => online().length === 14, 60_000, 'all 14 cameras online under the gateway').catch(
    (err: Error) => {
      throw new Error(`${err.message}: ${online().length} online`);
    },
  );
  assert.deepEqual(
    gw.cameras().sort(),
    mergedCatalog(sub, 'two').map((c) => c.id),
  );
});

test('shards: auto simulators split the city and a SIGKILLed one leaves its cameras to the other', async (t) => {
  const defer = cleanup(t);
  const broker = await startTestBroker();
  defer('broker', () => broker.stop());
  const { log } = captureLogger('silent');
  const sets = [
    `mqtt.url=${broker.url}`,
    'city.cameras=12',
    'simulator.shard=auto',
    'simulator.shardSettleS=1',
  ];
  const a = await createSimulator(testConfig([...sets, 'simulator.id=sim-a']), {
    log,
    ffmpeg: systemFfmpeg(),
  });
  defer('sim-a', () => a.close());
  const b = spawnCli([
    'simulator',
    '--mqtt-url',
    broker.url,
    '--port',
    '0',
    '--cameras',
    '12',
    '--shard',
    'auto',
    '--set',
    'simulator.id=sim-b',
    '--set',
    'simulator.shardSettleS=1',
    '--set',
    'log.level=warn',
    ...cityArgs,
  ]);
  defer('sim-b', () => b.kill());
  const sub = await collect(broker.url, ['facegate/simulator/#']);
  defer('sub', () => sub.close());
  const latest = (shard: string): CatalogCam[] | undefined => {
    const m = sub.messages.filter((x) => x.topic === `facegate/simulator/shards/${shard}/catalog`).at(-1);
    return m && m.payload !== '' ? (JSON.parse(m.payload) as { cameras: CatalogCam[] }).cameras : undefined;
  };
  const ids = (cams: CatalogCam[] | undefined): string[] => (cams ?? []).map((c) => c.id);
  const all = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(6, '0'));
  await sub
    .waitFor(
      () => {
        const x = ids(latest('sim-a'));
        const y = ids(latest('sim-b'));
        return x.length > 0 && y.length > 0 && [...x, ...y].sort().join() === all.join();
      },
      60_000,
      'two auto shards that together list every camera once',
    )
    .catch((err: Error) => {
      throw new Error(
        `${err.message}: a=${ids(latest('sim-a')).join()} b=${ids(latest('sim-b')).join()}\n${b.output().slice(-2000)}`,
      );
    });
  assert.equal(a.fleet.list().length, ids(latest('sim-a')).length);

  await b.kill();
  await sub.waitFor(
    () => ids(latest('sim-a')).join() === all.join() && latest('sim-b') === undefined,
    30_000,
    "sim-a serving every camera and sim-b's catalog removed",
  );
  assert.equal(mergedCatalog(sub, 'facegate').length, 12);
  assert.match(
    await rawExchange(
      '127.0.0.1',
      a.port,
      `DESCRIBE rtsp://127.0.0.1:${a.port}/cam/000012 RTSP/1.0\r\nCSeq: 2\r\n\r\n`,
    ),
    /^RTSP\/1\.0 200/,
  );
});
