// contract/: the README's topic table names exactly the topics contract/ builds, and every payload
// a real simulator, gateway and console emit parses with its schema. (The import fences are
// test/imports.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import { createConsole } from '../console/server.ts';
import { createTopics, parseMessage, topicTable, type TopicKind } from '../contract/index.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { waitFor } from './helpers/net.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('the README topic table lists exactly the topics contract/ builds', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const documented = [...readme.matchAll(/^\| `(facegate\/[^`]+)`/gm)].map((m) => m[1]);
  const built = topicTable('facegate').map((r) => r.topic);
  assert.ok(documented.length >= 10, `found the table (${documented.length} rows)`);
  assert.deepEqual([...documented].sort(), [...built].sort());
  assert.equal(new Set(built).size, built.length, 'one row per topic');
});

test('every payload of a real simulator, gateway and console parses with its contract schema', {
  timeout: 120_000,
}, async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=3',
    'simulator.publishTruth=true',
    'gateway.settleS=0.5',
    'gateway.statsEveryS=1',
    'gateway.crops=true',
  ]);
  const topics = createTopics(cfg.mqtt.prefix);
  const sub = await collect(broker.url, [`${topics.prefix}/#`]);
  t.after(() => sub.close());
  const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
  t.after(() => sim.close());
  const gw = await createGateway(cfg, { log, ffmpeg: systemFfmpeg(), http: false });
  t.after(() => gw.close());
  const con = await createConsole(cfg, { log, ffmpeg: systemFfmpeg(), port: 0, host: '127.0.0.1' });
  t.after(() => con.close());
  await waitFor(() => con.stats().mqtt.connected, 10_000, 'console connected');

  // The console produces the control message and the live view audit records.
  const res = await fetch(new URL('/api/simulator', con.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cameras: 3 }),
  });
  assert.equal(res.status, 202);
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(`${con.url.replace('http', 'ws')}live/000001`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.close();
  // A privacy command (hand-written: the one payload that comes from outside) makes the gateway
  // publish an audit record.
  await sub.link.publish(topics.privacySet, JSON.stringify({ camera: '000002', state: 'suspended' }), {
    qos: 1,
  });

  const seen = (): Set<TopicKind> => {
    const kinds = new Set<TopicKind>();
    for (const m of sub.messages) {
      const k = parseMessage(m.topic, m.payload, topics.prefix)?.ref.kind;
      if (k) kinds.add(k);
    }
    return kinds;
  };
  const want: TopicKind[] = [
    'faces',
    'cameraStatus',
    'gatewayStatus',
    'gatewayStats',
    'catalog',
    'simulatorStatus',
    'simulatorSet',
    'truth',
    'privacySet',
    'privacyState',
    'auditLiveView',
  ];
  await waitFor(
    () =>
      want.every((k) => seen().has(k)) &&
      sub.messages.filter((m) => m.topic.endsWith('/liveview')).length >= 2,
    60_000,
    'a message of every kind',
  );

  let parsed = 0;
  for (const m of sub.messages) {
    const r = parseMessage(m.topic, m.payload, topics.prefix);
    assert.ok(r, `${m.topic} is one of the contract's topics`);
    assert.notEqual(
      r.status,
      'invalid',
      `${m.topic}: ${r.status === 'invalid' ? r.error : ''}\n${m.payload.slice(0, 300)}`,
    );
    if (r.status === 'ok') parsed++;
  }
  t.diagnostic(`${parsed} payloads of ${seen().size} kinds parsed`);
  // Typed by its topic: a face event names the camera of its topic.
  for (const m of sub.messages) {
    const r = parseMessage(m.topic, m.payload, topics.prefix);
    if (r?.status === 'ok' && r.kind === 'faces') assert.equal(r.payload.cameraId, r.ref.camera);
  }
});
