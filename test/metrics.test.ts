import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, metricNames } from '../gateway/metrics.ts';
import { createHttpServer } from '../gateway/http.ts';
import { createPublisher } from '../gateway/publish/publisher.ts';
import { emptyGatewayStats, type GatewayStats } from '../contract/stats.ts';
import { UserError } from '../shared/errors.ts';
import { startMosquitto } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { captureLogger } from './helpers/logs.ts';
import { waitFor } from './helpers/net.ts';

const get = async (port: number, path: string): Promise<{ status: number; type: string; body: string }> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
};

test('/metrics serves Prometheus text from the stats snapshot; /healthz follows the MQTT link', {
  ...needs('mosquitto'),
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  let scrapes = 0;
  const getStats = (): GatewayStats => {
    scrapes++;
    return {
      ...emptyGatewayStats(),
      uptimeS: 12,
      cameras: { assigned: 7, online: 5 },
      frames: {
        decoded: 100,
        analysed: 40,
        dropped: { slot: 3, motion: 57 },
        skipped: { still: 42 },
        catchUp: { decoded: 5, refused: 2 },
      },
      inferenceMs: { p50: 2, p95: 4 },
      rssMb: 50,
    };
  };
  const pub = createPublisher(
    {
      gatewayId: 'gw-m',
      prefix: 'fgm',
      mqtt: { url: broker.url, backoffMinMs: 100, backoffMaxMs: 300 },
      outboxMax: 10,
      messageExpiryS: 0,
      statsEveryS: 0,
    },
    { log, getStats },
  );
  t.after(() => pub.close({ timeoutMs: 500, flushMs: 0 }));
  // Two gateways in one process: registries must not collide.
  const metrics = createMetrics({ gatewayId: 'gw-m' }, pub.snapshot);
  createMetrics({ gatewayId: 'gw-other' }, pub.snapshot);
  const http = await createHttpServer(
    { host: '127.0.0.1', port: 0 },
    { log, registry: metrics.registry, health: pub.health },
  );
  t.after(() => http.close());
  await pub.link.waitConnected(5000);
  await waitFor(() => pub.health().ok, 5000, 'online');

  const before = scrapes;
  const m = await get(http.port, '/metrics');
  assert.equal(scrapes - before, 1, 'one getStats() per scrape');
  assert.equal(m.status, 200);
  assert.match(m.type, /^text\/plain; version=0\.0\.4/);
  for (const name of metricNames)
    assert.match(m.body, new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'), name);
  assert.match(m.body, /^facegate_cameras_assigned\{gateway="gw-m"\} 7$/m);
  assert.match(m.body, /^facegate_frames_dropped_total\{reason="motion",gateway="gw-m"\} 57$/m);
  assert.match(m.body, /^facegate_frames_skipped_total\{reason="still",gateway="gw-m"\} 42$/m);
  assert.match(m.body, /^facegate_catchup_total\{reason="refused",gateway="gw-m"\} 2$/m);
  assert.match(m.body, /^facegate_inference_seconds\{quantile="0.95",gateway="gw-m"\} 0.004$/m);
  assert.match(m.body, /^facegate_mqtt_connected\{gateway="gw-m"\} 1$/m);
  assert.match(m.body, /^facegate_process_resident_memory_bytes\{gateway="gw-m"\} 52428800$/m);

  assert.deepEqual(
    [(await get(http.port, '/healthz')).status, JSON.parse((await get(http.port, '/healthz')).body)],
    [200, { status: 'ok' }],
  );
  assert.equal((await get(http.port, '/nope')).status, 404);

  await broker.stop(true);
  await waitFor(async () => (await get(http.port, '/healthz')).status === 503, 5000, '503');
  assert.deepEqual(JSON.parse((await get(http.port, '/healthz')).body), {
    status: 'unhealthy',
    reason: 'mqtt disconnected',
  });
  assert.match((await get(http.port, '/metrics')).body, /^facegate_mqtt_connected\{gateway="gw-m"\} 0$/m);
});

test('a port in use is one clear UserError line', async (t) => {
  const { log } = captureLogger('silent');
  const metrics = createMetrics({ gatewayId: 'gw-x' }, () => {
    throw new Error('not scraped');
  });
  const health = () => ({ ok: true });
  const a = await createHttpServer(
    { host: '127.0.0.1', port: 0 },
    { log, registry: metrics.registry, health },
  );
  t.after(() => a.close());
  await assert.rejects(
    createHttpServer({ host: '127.0.0.1', port: a.port }, { log, registry: metrics.registry, health }),
    (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.equal(
        err.message,
        `http: port ${a.port} on 127.0.0.1 is in use; set http.port (0 = any free port)`,
      );
      return true;
    },
  );
  // A failing snapshot is a 500, not a crash.
  assert.equal((await get(a.port, '/metrics')).status, 500);
});
