// Security: RTSP Digest on the simulator and camera credentials on the gateway, MQTT passwords,
// TLS with client certificates and ACLs on a real mosquitto, secrets kept out of logs, payloads,
// `config print` and error lines, localhost-only HTTP, and the simulator's control topic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto, type TestBroker } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { captureLogger } from './helpers/logs.ts';
import { freePort, waitFor, waitForPort } from './helpers/net.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';
import { connectMqtt, type MqttLink, type MqttOptions } from '../shared/mqtt.ts';
import { createLogger } from '../shared/log.ts';
import { UserError } from '../shared/errors.ts';
import { defaultConfig } from '../config/load.ts';
import { createSimulator, type Simulator } from '../simulator/index.ts';
import { createGateway, type Gateway } from '../gateway/index.ts';

const mosquittoAndOpenssl = needs('mosquitto', 'openssl');
const skipped = mosquittoAndOpenssl.skip !== undefined;
const silent = createLogger({ level: 'silent', format: 'json' });

// Every secret is distinct and unusual, so a grep for it cannot match anything else.
const RTSP_PW = 'rtsp-Pw-7f3kQ';
const RTSP_WRONG = 'wrong-Pw-9xLz';
const SIM_PW = 'sim-Pw-2hVb8';
const GW_PW = 'gw-Pw-5nMc1';
const OP_PW = 'op-Pw-8rTy4';
const SECRETS = [RTSP_PW, RTSP_WRONG, SIM_PW, GW_PW, OP_PW];

let dir = '';
let broker: TestBroker | undefined;
let tlsPort = 0;
const file = (name: string): string => join(dir, name);

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA. */
function makeCerts(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=facegate test ${ca}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'gw'],
  ] as const) {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
  }
}

before(async () => {
  if (skipped) return;
  dir = mkdtempSync(join(tmpdir(), 'facegate-sec-'));
  makeCerts();
  const passwd = file('passwd');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'sim', SIM_PW]);
  execFileSync('mosquitto_passwd', ['-b', passwd, 'gw', GW_PW]);
  execFileSync('mosquitto_passwd', ['-b', passwd, 'op', OP_PW]);
  // mosquitto started as root drops to the `mosquitto` user, which must still read these files.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(dir, 0o755);
    for (const f of ['ca.crt', 'server.crt', 'server.key']) chmodSync(file(f), 0o644);
  }
  chmodSync(passwd, asRoot ? 0o644 : 0o600);
  // The ACL example of config/mosquitto.conf, with a second prefix for the tests.
  writeFileSync(
    file('acl'),
    [
      'user sim',
      'topic readwrite facegate/#',
      'topic readwrite ctl-off/#',
      'user gw',
      'topic read facegate/simulator/#',
      'topic readwrite facegate/cameras/#',
      'topic readwrite facegate/gateways/#',
      'topic readwrite sec-b/#',
      'user op',
      'topic readwrite #',
      '',
    ].join('\n'),
  );
  chmodSync(file('acl'), asRoot ? 0o644 : 0o600);
  tlsPort = await freePort();
  broker = await startMosquitto({
    extraConf: [
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${file('acl')}`,
      // A second listener: TLS with a client certificate required, same users and ACL.
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${file('ca.crt')}`,
      `certfile ${file('server.crt')}`,
      `keyfile ${file('server.key')}`,
      'require_certificate true',
    ],
  });
  await waitForPort(tlsPort, 10_000);
});

after(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const clientId = (): string => `sec-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Connects and returns the link, or the error waitConnected rejected with. */
async function tryConnect(
  opts: Omit<MqttOptions, 'clientId'>,
  timeoutMs = 1500,
): Promise<{ link: MqttLink; error?: UserError }> {
  const link = connectMqtt({ clientId: clientId(), backoffMinMs: 200, backoffMaxMs: 500, ...opts }, silent);
  try {
    await link.waitConnected(timeoutMs);
    return { link };
  } catch (err) {
    await link.close({ force: true });
    assert.ok(err instanceof UserError, String(err));
    return { link, error: err };
  }
}

function assertOneLineFailure(error: UserError | undefined, what: string, secret?: string): void {
  assert.ok(error, `${what}: connected, but should not`);
  assert.equal(error.exitCode, 4, what);
  assert.doesNotMatch(error.message, /[\r\n]/, what);
  assert.match(error.message, /^mqtt: cannot reach the broker at /, what);
  if (secret) assert.ok(!error.message.includes(secret), `${what}: ${error.message}`);
}

test('MQTT: username/password on plain TCP, TLS with client certificates; wrong credentials fail with one line', {
  ...mosquittoAndOpenssl,
}, async () => {
  const url = broker!.url;
  const tls = `mqtts://127.0.0.1:${tlsPort}`;
  const ok = await tryConnect({ url, username: 'gw', password: GW_PW });
  assert.equal(ok.error, undefined);
  await ok.link.close({ force: true });

  const full = {
    url: tls,
    ca: file('ca.crt'),
    cert: file('client.crt'),
    key: file('client.key'),
    username: 'op',
    password: OP_PW,
  };
  const { cert: _c, key: _k, ...noClientCert } = full;
  // Each refusal waits out the connect timeout: in parallel.
  const refusals: [Omit<MqttOptions, 'clientId'>, string, string?][] = [
    [{ url, username: 'gw', password: RTSP_WRONG }, 'wrong password', RTSP_WRONG],
    [{ url }, 'no credentials'],
    // Credentials in the URL are used and never echoed.
    [{ url: `mqtt://gw:${RTSP_WRONG}@127.0.0.1:${broker!.port}` }, 'wrong password in the URL', RTSP_WRONG],
    [{ ...full, password: RTSP_WRONG }, 'TLS, wrong password', RTSP_WRONG],
    [noClientCert, 'TLS without a client certificate'],
    [{ ...full, ca: file('other-ca.crt') }, 'TLS with a server certificate from an unknown CA'],
    // (mqtt.js upgrades mqtt:// to TLS when given a client certificate, so plain means no TLS options.)
    [{ url: `mqtt://127.0.0.1:${tlsPort}`, username: 'op', password: OP_PW }, 'plain MQTT on the TLS port'],
  ];
  const results = await Promise.all(refusals.map(([o]) => tryConnect(o)));
  refusals.forEach(([, what, secret], i) => {
    assertOneLineFailure(results[i]!.error, what, secret);
  });

  // TLS: right CA, client certificate and password; a message goes round.
  const t = await tryConnect(full, 5000);
  assert.equal(t.error, undefined, t.error?.message);
  const got: string[] = [];
  t.link.onMessage((topic, payload) => got.push(`${topic} ${payload.toString()}`));
  await t.link.subscribe('sec/tls', 1);
  await t.link.publish('sec/tls', 'over tls', { qos: 1 });
  await waitFor(() => got.length > 0, 5000, 'the message over TLS');
  assert.deepEqual(got, ['sec/tls over tls']);
  await t.link.close({ force: true });

  // A missing certificate file is a configuration error (exit 2), named, at once.
  assert.throws(
    () => connectMqtt({ ...full, clientId: clientId(), ca: file('nope.crt') }, silent),
    (e: Error) =>
      e instanceof UserError && e.exitCode === 2 && /cannot read CA file .*nope\.crt: ENOENT/.test(e.message),
  );
});

interface Collected {
  topic: string;
  payload: string;
}

async function collectAll(): Promise<{ link: MqttLink; messages: Collected[] }> {
  const link = connectMqtt(
    { url: broker!.url, clientId: clientId(), username: 'op', password: OP_PW },
    silent,
  );
  const messages: Collected[] = [];
  link.onMessage((topic, payload) => messages.push({ topic, payload: payload.toString() }));
  await link.waitConnected(10_000);
  await link.subscribe('#', 1);
  return { link, messages };
}

const statusOf = (msgs: Collected[], topic: string): string | undefined => {
  const last = msgs.filter((m) => m.topic === topic).at(-1);
  return last ? (JSON.parse(last.payload) as { status: string }).status : undefined;
};

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** Local addresses in LISTEN state for `port`, from /proc/net/tcp and tcp6 (Linux). */
function listenAddresses(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [hex, portHex] = local.split(':');
      if (!hex || Number.parseInt(portHex ?? '', 16) !== port) continue;
      if (hex.length === 8) out.push(Buffer.from(hex, 'hex').reverse().join('.'));
      else out.push(hex === '0'.repeat(32) ? '::' : `ipv6:${hex}`);
    }
  }
  return out;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('a city with Digest RTSP and MQTT passwords: right credentials stream, wrong ones are unauthorized, no secret leaks', {
  ...mosquittoAndOpenssl,
  timeout: 120_000,
}, async (t) => {
  const cap = captureLogger('debug');
  const mqttAs = (user: string, pw: string): string[] => [
    `mqtt.url=${broker!.url}`,
    `mqtt.username=${user}`,
    `mqtt.password=${pw}`,
  ];
  const sub = await collectAll();
  t.after(() => sub.link.close({ force: true }));
  const sim = await createSimulator(
    testConfig([
      ...mqttAs('sim', SIM_PW),
      'city.cameras=2',
      'mqtt.clientId=sec-sim',
      'simulator.username=cam',
      `simulator.password=${RTSP_PW}`,
      'log.level=debug',
    ]),
    { log: cap.log, ffmpeg: systemFfmpeg() },
  );
  t.after(() => sim.close());
  const rtsp = (pw: string, cam: string): string => `rtsp://cam:${pw}@127.0.0.1:${sim.port}/cam/${cam}`;

  // Gateway A discovers the cameras from the catalog and adds its own RTSP credentials.
  const gwA = await createGateway(
    testConfig([
      ...mqttAs('gw', GW_PW),
      'gateway.id=sec-a',
      'gateway.settleS=0.5',
      'gateway.rtspUsername=cam',
      `gateway.rtspPassword=${RTSP_PW}`,
      'log.level=debug',
    ]),
    { log: cap.log, ffmpeg: systemFfmpeg() },
  );
  const gateways: Gateway[] = [gwA];
  t.after(async () => {
    for (const g of gateways.splice(0)) await g.close();
  });
  // Gateway B has a fixed list: one camera with the right password in its URL, one with a wrong one.
  // A reads RTSP itself (the default rtsp ingest), B through ffmpeg: no secret leaks from either.
  const cameras = JSON.stringify([
    { id: 'good', url: rtsp(RTSP_PW, '000001') },
    { id: 'bad', url: rtsp(RTSP_WRONG, '000002') },
  ]);
  const gwB = await createGateway(
    testConfig([
      ...mqttAs('gw', GW_PW),
      'mqtt.prefix=sec-b',
      'gateway.id=sec-b',
      'gateway.ingest=ffmpeg',
      `gateway.cameras=${cameras}`,
      'log.level=debug',
    ]),
    {
      log: cap.log,
      ffmpeg: systemFfmpeg(),
      http: false,
    },
  );
  gateways.push(gwB);

  const want: [string, string][] = [
    ['facegate/cameras/000001/status', 'online'],
    ['facegate/cameras/000002/status', 'online'],
    ['sec-b/cameras/good/status', 'online'],
    ['sec-b/cameras/bad/status', 'unauthorized'],
  ];
  await waitFor(
    () => want.every(([topic, s]) => statusOf(sub.messages, topic) === s),
    40_000,
    `statuses ${JSON.stringify(want)}; have ${JSON.stringify(want.map(([topic]) => statusOf(sub.messages, topic)))}`,
  );
  await waitFor(
    () => gwA.stats().frames.decoded > 0 && gwB.stats().frames.decoded > 0,
    10_000,
    'frames on both gateways',
  );

  // The gateway's HTTP server listens on loopback only by default.
  assert.equal(defaultConfig().http.host, '127.0.0.1');
  assert.equal(defaultConfig().simulator.host, '127.0.0.1');
  assert.equal(defaultConfig().broker.host, '127.0.0.1');
  assert.ok(gwA.httpPort > 0);
  assert.equal(await canConnect('127.0.0.1', gwA.httpPort), true, '/metrics on 127.0.0.1');
  // The kernel's listen table says which address each port is bound to, whatever interfaces exist.
  assert.deepEqual(listenAddresses(gwA.httpPort), ['127.0.0.1'], '/metrics listens on loopback only');
  assert.deepEqual(listenAddresses(sim.port), ['127.0.0.1'], 'RTSP listens on loopback only');
  const ext = externalAddress();
  if (ext) assert.equal(await canConnect(ext, gwA.httpPort), false, `/metrics must not answer on ${ext}`);
  if (ext) assert.equal(await canConnect(ext, sim.port), false, `RTSP must not answer on ${ext}`);

  await new Promise((r) => setTimeout(r, 6000)); // stats, status refreshes, retries of the bad camera
  for (const g of gateways.splice(0)) await g.close();
  await sim.close();
  await new Promise((r) => setTimeout(r, 300));

  const logText = cap.text();
  assert.ok(cap.lines.length > 20, `only ${cap.lines.length} log lines`);
  assert.ok(/unauthori[sz]ed|401/i.test(logText), 'the log tells about the refused camera');
  assert.ok(sub.messages.length > 10, `only ${sub.messages.length} messages`);
  assert.ok(sub.messages.some((m) => m.topic === 'facegate/simulator/catalog'));
  for (const s of SECRETS) {
    const line = logText.split('\n').find((l) => l.includes(s));
    assert.equal(line, undefined, `secret ${s} in a log line`);
    const msg = sub.messages.find((m) => m.payload.includes(s) || m.topic.includes(s));
    assert.equal(msg, undefined, `secret ${s} in an MQTT message: ${JSON.stringify(msg)}`);
  }
});

test('the control topic: disabled by config, or denied by a broker ACL, a message changes nothing', {
  ...mosquittoAndOpenssl,
  timeout: 60_000,
}, async (t) => {
  const { log } = captureLogger('silent');
  const sims: Simulator[] = [];
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const base = [`mqtt.url=${broker!.url}`, 'mqtt.username=sim', `mqtt.password=${SIM_PW}`, 'city.cameras=2'];
  const on = await createSimulator(testConfig([...base, 'mqtt.clientId=sec-ctl-on']), {
    log,
    ffmpeg: systemFfmpeg(),
  });
  sims.push(on);
  const off = await createSimulator(
    testConfig([...base, 'mqtt.clientId=sec-ctl-off', 'mqtt.prefix=ctl-off', 'simulator.control=false']),
    { log, ffmpeg: systemFfmpeg() },
  );
  sims.push(off);
  await waitFor(() => on.mqtt?.connected && off.mqtt?.connected, 10_000, 'simulators connected');
  await new Promise((r) => setTimeout(r, 500)); // their subscriptions are in

  const as = async (user: string, pw: string): Promise<MqttLink> => {
    const l = connectMqtt({ url: broker!.url, clientId: clientId(), username: user, password: pw }, silent);
    await l.waitConnected(5000);
    return l;
  };
  const gw = await as('gw', GW_PW);
  const op = await as('op', OP_PW);
  t.after(async () => {
    await gw.close({ force: true });
    await op.close({ force: true });
  });
  const set = JSON.stringify({ cameras: 5 });
  // The gateway user may read facegate/simulator/# but not write: the broker drops the message
  // (MQTT 5: PUBACK "not authorized", which may surface as an error here).
  await gw.publish('facegate/simulator/set', set, { qos: 1 }).catch(() => undefined);
  // An operator may write, but this simulator has control off.
  await op.publish('ctl-off/simulator/set', set, { qos: 1 });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(on.fleet.count(), 2, 'a control message from a user without write access was applied');
  assert.equal(off.fleet.count(), 2, 'a control message was applied with simulator.control=false');
  // The same message from the operator reaches the simulator with control on: the path works.
  await op.publish('facegate/simulator/set', set, { qos: 1 });
  await waitFor(() => on.fleet.count() === 5, 5000, 'the operator message to apply');
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  const full: Record<string, string> = { ...env };
  for (const k of ['PATH', 'HOME']) if (process.env[k]) full[k] = process.env[k]!;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/facegate.js', ...args], {
      env: full,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function assertCliLine(r: CliResult, code: number, what: string, secrets: string[]): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stdout, '', what);
  assert.match(r.stderr, /^facegate: [^\n]+\n$/, `${what}: ${JSON.stringify(r.stderr)}`);
  for (const s of secrets) assert.ok(!r.stderr.includes(s), `${what}: ${s} in ${r.stderr}`);
}

test('CLI: config print masks secrets; error lines never carry them', {
  ...mosquittoAndOpenssl,
  timeout: 60_000,
}, async () => {
  const env = {
    FACEGATE_MQTT_PASSWORD: SIM_PW,
    FACEGATE_SIMULATOR_PASSWORD: RTSP_PW,
    FACEGATE_GATEWAY_RTSP_PASSWORD: RTSP_WRONG,
    MQTT_URL: `mqtt://u:${GW_PW}@broker.example:1883`,
    FACEGATE_GATEWAY_CAMERAS: JSON.stringify([{ id: 'door', url: `rtsp://admin:${OP_PW}@10.0.0.5/stream` }]),
  };
  const [print, check, watchUnreachable] = await Promise.all([
    cli(['config', 'print'], env),
    cli(['config', 'check'], { ...env, FACEGATE_MQTT_URL: `http://u:${GW_PW}@h`, MQTT_URL: '' }),
    cli(['watch', '--mqtt-url', `mqtt://u:${GW_PW}@127.0.0.1:${await freePort()}`, '--timeout', '1'], {}),
  ]);
  assert.equal(print.code, 0, print.stderr);
  for (const s of SECRETS) assert.ok(!print.stdout.includes(s) && !print.stderr.includes(s), `${s} printed`);
  assert.match(print.stdout, /password: "?\*\*\*"?/);
  assert.match(print.stdout, /mqtt:\/\/u:\*\*\*@broker\.example:1883/);
  assert.match(print.stdout, /rtsp:\/\/admin:\*\*\*@10\.0\.0\.5\/stream/);

  assertCliLine(check, 2, 'config check with a bad URL', SECRETS);
  assert.match(check.stderr, /mqtt\.url/);
  assertCliLine(watchUnreachable, 4, 'watch, broker unreachable', SECRETS);
  assert.match(watchUnreachable.stderr, /mqtt:\/\/u:\*\*\*@127\.0\.0\.1/);

  // A reachable broker that refuses the password: still exit 4, one line, no password.
  const refused = await cli(
    ['watch', '--mqtt-url', broker!.url, '--set', 'mqtt.username=gw', '--timeout', '2'],
    { FACEGATE_MQTT_PASSWORD: RTSP_WRONG },
  );
  assertCliLine(refused, 4, 'watch, wrong password', SECRETS);
});
