import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { loadConfig, defaultConfig, envName, schemaLeaves } from '../config/load.ts';
import { configSchema } from '../config/schema.ts';
import { exampleYaml, maskSecrets, toYaml } from '../config/print.ts';

const root = new URL('..', import.meta.url).pathname;
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(root, 'bin/facegate.js'), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });

function tmpFile(text: string): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-cfg-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, text);
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('the shipped example equals the defaults and is what `config example` prints', () => {
  const text = readFileSync(join(root, 'config/facegate.example.yaml'), 'utf8');
  assert.deepEqual(configSchema.parse(parse(text)), defaultConfig());
  assert.deepEqual(parse(text), defaultConfig());
  assert.equal(text, exampleYaml());
});

test('precedence: defaults < file < env < flags', (t) => {
  const f = tmpFile('city:\n  cameras: 10\n  seed: 5\nmqtt:\n  prefix: fromfile\n');
  t.after(f.done);
  assert.equal(loadConfig({}).city.cameras, 50);
  assert.equal(loadConfig({ file: f.file }).city.cameras, 10);
  const env = { FACEGATE_CITY_CAMERAS: '20', MQTT_URL: 'mqtt://b:1884' };
  const c = loadConfig({ file: f.file, env });
  assert.equal(c.city.cameras, 20);
  assert.equal(c.city.seed, 5);
  assert.equal(c.mqtt.url, 'mqtt://b:1884');
  assert.equal(c.mqtt.prefix, 'fromfile');
  assert.equal(loadConfig({ file: f.file, env, sets: ['city.cameras=30'] }).city.cameras, 30);
});

test('env names derive from schema paths; aliases map to their keys; FACEGATE_ beats an alias', () => {
  assert.equal(envName('gateway.detectorThreads'), 'FACEGATE_GATEWAY_DETECTOR_THREADS');
  assert.equal(envName('simulator.sessionTimeoutS'), 'FACEGATE_SIMULATOR_SESSION_TIMEOUT_S');
  for (const path of schemaLeaves().keys()) assert.match(envName(path), /^FACEGATE_[A-Z0-9_]+$/);
  const c = loadConfig({
    env: { FACEGATE_GATEWAY_DETECTOR_THREADS: '2', FACEGATE_SIMULATOR_CONTROL: 'false', GATEWAYS: '3' },
  });
  assert.equal(c.gateway.detectorThreads, 2);
  assert.equal(c.simulator.control, false);
  assert.equal(c.city.gateways, 3);
  assert.equal(loadConfig({ env: { CAMERAS: '5', FACEGATE_CITY_CAMERAS: '6' } }).city.cameras, 6);
  const cams = loadConfig({ env: { FACEGATE_GATEWAY_CAMERAS: '[{"id":"door-1","url":"rtsp://h/cam/1"}]' } })
    .gateway.cameras;
  assert.deepEqual(cams, [{ id: 'door-1', url: 'rtsp://h/cam/1' }]);
});

test('gateway.ingest: a tagged union with defaults per kind, a bare kind as shorthand, env and flags alike', () => {
  const d = loadConfig({}).gateway.ingest;
  assert.equal(d.kind, 'rtsp', 'rtsp is the default');
  assert.equal(d.camerasPerDecoder, 100, 'a shared keyframe decoder takes 100 cameras, stated, not tripled');
  const f = loadConfig({ env: { FACEGATE_GATEWAY_INGEST: 'ffmpeg' } }).gateway.ingest;
  assert.deepEqual(f, { kind: 'ffmpeg', camerasPerDecoder: 16, decode: 'keyframes' });
  // A bare kind, then an option of it, from env and flags in any order.
  const e = loadConfig({
    env: { FACEGATE_GATEWAY_INGEST: 'ffmpeg', FACEGATE_GATEWAY_INGEST_CAMERAS_PER_DECODER: '8' },
    sets: ['gateway.ingest.decode=fps:2'],
  }).gateway.ingest;
  assert.deepEqual(e, { kind: 'ffmpeg', camerasPerDecoder: 8, decode: 'fps:2' });
  const s = loadConfig({ sets: ['gateway.ingest.forceLookS=4', 'gateway.ingest=rtsp'] }).gateway.ingest;
  // The whole mapping as JSON, as for other structured keys.
  const j = loadConfig({ sets: ['gateway.ingest={"kind":"ffmpeg","camerasPerDecoder":4}'] }).gateway.ingest;
  assert.deepEqual(j, { kind: 'ffmpeg', camerasPerDecoder: 4, decode: 'keyframes' });
  assert.equal(s.kind === 'rtsp' && s.forceLookS, 4);
  const f2 = tmpFile('gateway:\n  ingest: ffmpeg\n');
  try {
    const c = loadConfig({ file: f2.file, sets: ['gateway.ingest.camerasPerDecoder=4'] }).gateway.ingest;
    assert.deepEqual(c, { kind: 'ffmpeg', camerasPerDecoder: 4, decode: 'keyframes' });
  } finally {
    f2.done();
  }
});

const bad: { name: string; input: Parameters<typeof loadConfig>[0]; message: string }[] = [
  {
    name: 'not a number',
    input: { sets: ['city.cameras=abc'] },
    message: 'config: city.cameras: "abc" (from --set city.cameras) is not a number',
  },
  {
    name: 'too small',
    input: { sets: ['city.cameras=0'] },
    message:
      'config: city.cameras: 0 (from --set city.cameras) is not allowed: Too small: expected number to be >=1',
  },
  {
    name: 'not an integer',
    input: { env: { CAMERAS: '2.5' } },
    message: 'config: city.cameras: 2.5 (from env CAMERAS) is not allowed: expected int, received number',
  },
  {
    name: 'bad boolean',
    input: { env: { FACEGATE_SIMULATOR_CONTROL: 'maybe' } },
    message:
      'config: simulator.control: "maybe" (from env FACEGATE_SIMULATOR_CONTROL) is not a boolean (true or false)',
  },
  {
    name: 'bad enum',
    input: { sets: ['log.level=loud'] },
    message:
      'config: log.level: "loud" (from --set log.level) is not allowed: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
  },
  {
    name: 'bad decode mode',
    input: { sets: ['gateway.ingest=ffmpeg', 'gateway.ingest.decode=fps:x'] },
    message:
      'config: gateway.ingest.decode: "fps:x" (from --set gateway.ingest.decode) is not allowed: keyframes or fps:<n>',
  },
  {
    name: 'the old ingest name',
    input: { sets: ['gateway.ingest=node'] },
    message:
      'config: gateway.ingest.kind: "node" (from --set gateway.ingest) is not allowed: rtsp or ffmpeg (node is now rtsp)',
  },
  {
    name: 'an option of the other ingest kind',
    input: { sets: ['gateway.ingest=ffmpeg', 'gateway.ingest.activityGate=false'] },
    message:
      'config: unknown config key gateway.ingest.activityGate (from --set gateway.ingest.activityGate); known: gateway.ingest.kind, gateway.ingest.camerasPerDecoder, gateway.ingest.decode',
  },
  {
    name: 'unknown flag key',
    input: { sets: ['city.camras=1'] },
    message:
      'config: unknown config key city.camras (from --set city.camras); known keys: city.cameras, city.gateways, city.width, city.height, city.fps, city.keyframeInterval, city.scenes, city.sceneSeconds, city.seed, city.profile, city.residentialShare, city.passagesPerHour, city.residentialSeconds, city.codec, city.h265Share, city.noise, city.lights, city.distractors',
  },
  {
    name: 'bad mqtt url',
    input: { env: { MQTT_URL: 'http://x' } },
    message:
      'config: mqtt.url: "http://x" (from env MQTT_URL) is not allowed: an mqtt://, mqtts://, ws:// or wss:// URL',
  },
  {
    name: 'bad camera url in JSON',
    input: { env: { FACEGATE_GATEWAY_CAMERAS: '[{"id":"a","url":"http://x"}]' } },
    message:
      'config: gateway.cameras.0.url: "http://x" (from env FACEGATE_GATEWAY_CAMERAS) is not allowed: an rtsp:// URL',
  },
  {
    name: 'bad port',
    input: { sets: ['simulator.port=70000'] },
    message:
      'config: simulator.port: 70000 (from --set simulator.port) is not allowed: Too big: expected number to be <=65535',
  },
  {
    name: 'malformed privacy mask polygon',
    input: { env: { FACEGATE_PRIVACY_MASKS: '[{"camera":"000001","polygons":[[[0,0],[1,0]]]}]' } },
    message:
      'config: privacy.masks.0.polygons.0: [[0,0],[1,0]] (from env FACEGATE_PRIVACY_MASKS) is not allowed: a polygon needs at least 3 points',
  },
  {
    name: 'set without =',
    input: { sets: ['city.cameras'] },
    message: 'config: --set takes path=value, got "city.cameras"',
  },
];

for (const b of bad) {
  test(`bad config is refused with one line: ${b.name}`, () => {
    assert.throws(
      () => loadConfig(b.input),
      (err: Error & { exitCode?: number }) => {
        assert.equal(err.message, b.message);
        assert.equal(err.exitCode, 2);
        return true;
      },
    );
  });
}

test('bad files: unknown key, wrong type, broken YAML, missing file', (t) => {
  const cases: [string, RegExp][] = [
    [
      'city:\n  camras: 3\n',
      /^config: unknown config key city\.camras \(from file .*\); known: city\.cameras, /,
    ],
    ['cty: {}\n', /^config: unknown config key cty \(from file .*\); known: city, simulator, gateway/],
    [
      'city:\n  cameras: many\n',
      /^config: city\.cameras: "many" \(from file .*\) is not allowed: expected number, received string$/,
    ],
    ['city: [1\n', /^config: config file .* is not valid YAML: /],
    ['- 1\n', /^config: config file .* must hold a mapping at the top$/],
  ];
  for (const [text, re] of cases) {
    const f = tmpFile(text);
    t.after(f.done);
    assert.throws(
      () => loadConfig({ file: f.file }),
      (err: Error) => re.test(err.message) && !err.message.includes('\n'),
    );
  }
  assert.throws(() => loadConfig({ file: '/nonexistent/facegate.yaml' }), {
    message: 'config: cannot read config file /nonexistent/facegate.yaml: ENOENT',
  });
});

test('config print masks secrets', () => {
  const c = loadConfig({
    sets: [
      'mqtt.password=hunter2',
      'mqtt.url=mqtt://bob:hunter2@b:1883',
      'simulator.password=s3cret',
      'gateway.cameras=[{"id":"a","url":"rtsp://u:camsecret@h/x"}]',
    ],
  });
  const text = toYaml(maskSecrets(c));
  for (const s of ['hunter2', 's3cret', 'camsecret']) assert.ok(!text.includes(s), `${s} leaked`);
  assert.match(text, /mqtt:\/\/bob:\*\*\*@b:1883/);
  assert.equal(c.mqtt.password, 'hunter2', 'masking must not change the config itself');
});

test('CLI: config check exits 2 with one line naming the key; env and flags reach config print', () => {
  const r = cli(['config', 'check', '--set', 'city.cameras=abc']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'facegate: config: city.cameras: "abc" (from --set city.cameras) is not a number\n');
  const p = cli(['config', 'print'], { CAMERAS: '1234' });
  assert.equal(p.status, 0, p.stderr);
  assert.equal((parse(p.stdout) as { city: { cameras: number } }).city.cameras, 1234);
  const q = cli(['config', 'print', '--set', 'city.cameras=99'], { CAMERAS: '1234' });
  assert.equal((parse(q.stdout) as { city: { cameras: number } }).city.cameras, 99);
  const ok = cli(['config', 'check']);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, 'config ok\n');
  const schema = JSON.parse(cli(['config', 'schema']).stdout) as { properties: Record<string, unknown> };
  assert.ok(schema.properties['city'] && schema.properties['gateway']);
});

test('CLI: unknown commands and flags are usage errors with a hint', () => {
  const r = cli(['conifg']);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /^facegate: unknown command "conifg" \(did you mean config\?\); run `facegate --help`\n$/,
  );
  const f = cli(['config', '--bogus']);
  assert.equal(f.status, 2);
  assert.equal(f.stderr, "facegate: config: Unknown option '--bogus'; run `facegate config --help`\n");
  const h = cli(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Commands:\n( {2}\w+ +.+\n)+/);
  assert.match(h.stdout, /\n {2}config +print, check or describe the configuration\n/);
  assert.match(cli(['config', '--help']).stdout, /facegate config check/);
});
