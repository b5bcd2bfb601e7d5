// Who may switch detection off: the privacy command topic behind mosquitto's ACL as
// config/mosquitto.conf advises. A logged-in user with read access only publishes into the void;
// an operator's command suspends the camera, and the record names the operator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayPrivacy } from '../gateway/privacy/index.ts';
import { createTopics } from '../contract/topics.ts';
import { connectMqtt } from '../shared/mqtt.ts';
import { startMosquitto } from './helpers/broker.ts';
import { captureLogger } from './helpers/logs.ts';
import { testConfig } from './helpers/city.ts';

test('privacy/set behind the ACL: a read-only user changes nothing, an operator suspends', {
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-privacy-acl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  const users = { gateway: 'gw-secret-1', operator: 'op-secret-1', viewer: 'view-secret-1' };
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'gateway', users.gateway]);
  execFileSync('mosquitto_passwd', ['-b', passwd, 'operator', users.operator]);
  execFileSync('mosquitto_passwd', ['-b', passwd, 'viewer', users.viewer]);
  // The example of config/mosquitto.conf, the lines that concern privacy.
  writeFileSync(
    acl,
    [
      'user gateway',
      'topic read facegate/privacy/set',
      'topic readwrite facegate/privacy/+/state',
      'user operator',
      'topic readwrite facegate/#',
      'pattern read facegate/#',
      '',
    ].join('\n'),
  );
  // mosquitto started as root drops to its own user, which must still read these files.
  if (process.getuid?.() === 0) {
    chmodSync(dir, 0o755);
    chmodSync(passwd, 0o644);
    chmodSync(acl, 0o644);
  }
  const broker = await startMosquitto({
    extraConf: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`],
  });
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const link = (user: keyof typeof users) =>
    connectMqtt(
      { url: broker.url, clientId: `${user}-${process.pid}`, username: user, password: users[user] },
      log,
    );
  const gwLink = link('gateway');
  t.after(() => gwLink.close({ force: true }));
  await gwLink.waitConnected(10_000);
  const suspended: string[] = [];
  const privacy = createGatewayPrivacy(testConfig(), {
    log,
    link: gwLink,
    topics: createTopics('facegate'),
    gatewayId: 'gw-acl',
    onSuspend: (id) => suspended.push(id),
  });
  t.after(() => privacy.close());
  privacy.setCameras([{ id: 'door-1', district: 'arbat' }]);
  await new Promise((r) => setTimeout(r, 300)); // the gateway's subscription is in place

  const viewer = link('viewer');
  t.after(() => viewer.close({ force: true }));
  await viewer.waitConnected(10_000);
  // MQTT 5: mosquitto answers the PUBLISH with "not authorized" and drops it.
  await assert.rejects(
    viewer.publish('facegate/privacy/set', JSON.stringify({ all: true, state: 'suspended' }), { qos: 1 }),
    /Not authorized/,
  );
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(suspended, [], 'a read-only user cannot suspend detection');
  assert.equal(privacy.control.suspended('door-1'), false);

  const op = link('operator');
  t.after(() => op.close({ force: true }));
  await op.waitConnected(10_000);
  await op.publish(
    'facegate/privacy/set',
    JSON.stringify({ district: 'arbat', state: 'suspended', reason: 'residents meeting' }),
    { qos: 1, userProperties: { clientId: 'operator' } },
  );
  const until = Date.now() + 5000;
  while (suspended.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(suspended, ['door-1']);
  assert.equal(privacy.control.records()[0]?.clientId, 'operator');
  assert.equal(privacy.stats().suspendedCameras, 1);
});
