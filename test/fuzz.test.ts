// Property tests for every parser that reads input from outside the process: the config loader
// (YAML, environment, --set), simulator control messages, the simulator catalog, MQTT topic ids,
// the RTSP request parser, the load reader's view of a server stream (rtsp/response.ts with its
// counting) and the simulator's SDP. Each must answer every input with a value or a one-line error
// and never throw, with bounded memory. (test/rtsp-fuzz.test.ts fuzzes the live RTSP server; the
// other rtsp/ parsers have their own targets in test/rtsp-*.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { envAliases, envName, loadConfig, schemaLeaves } from '../config/load.ts';
import { ConfigError, UserError } from '../shared/errors.ts';
import { parseControl, applyControl, type ControlTarget } from '../simulator/control.ts';
import { parseCatalog } from '../gateway/catalog.ts';
import { assertId, badId, createTopics, isValidId, parseTopic } from '../contract/index.ts';
import { createRequestParser, type ParseEvent } from '../rtsp/request.ts';
import { createResponseParser, type RtspResponse } from '../rtsp/response.ts';
import { countPacket, newCounts, type SessionCounts } from '../simulator/rtsp/load-counts.ts';
import { buildSdp, TRACK_CONTROL } from '../simulator/rtsp/describe.ts';
import type { LoadedClip } from '../simulator/rtsp/clip.ts';
import { redactUrl } from '../shared/log.ts';
import { createConsoleState } from '../console/state.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/** Fixed seeds: a failure reproduces; FUZZ_SEED=<n> explores other inputs. */
const seed = Number(process.env['FUZZ_SEED'] ?? 20240501);
const runs = (n: number): fc.Parameters<unknown> => ({ numRuns: n, seed, endOnFailure: false });

const oneLine = (s: string): boolean => !/[\r\n\u2028\u2029\u0085]/.test(s);
/** A password that must never be printed, and URLs carrying it. */
const SECRET = 'Zq7sEcr3tPw';
const secretUrl = fc
  .constantFrom('mqtt', 'mqtts', 'rtsp', 'rtsps', 'http', 'ws')
  .map((s) => `${s}://user:${SECRET}@host.example:1234/path`);

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------- configuration

const leaves = schemaLeaves();
const leafPaths = [...leaves.keys()];
const sections = [...new Set(leafPaths.map((p) => p.split('.')[0]!))];
const leafNames = [...new Set(leafPaths.map((p) => p.split('.').slice(1).join('.')))];
const secretKeys = ['simulator.password', 'mqtt.password', 'gateway.rtspPassword'];

const keyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...leafNames) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '', '.', 'a.b', 'a\nb', '0'),
  },
);
const scalarArb = fc.oneof(
  fc.integer(),
  fc.integer({ min: -2, max: 70_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    'keyframes',
    'fps:5',
    'fps:0',
    'fps:x',
    'mqtt://127.0.0.1:1883',
    'rtsp://h/cam/1',
    'info',
    'json',
    '0.0.0.0',
    '-1',
    '1e309',
    'NaN',
    'true',
  ),
  secretUrl,
);
const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: scalarArb },
    { weight: 1, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.record(
          {
            id: fc.oneof(fc.constantFrom('cam-1', 'a b', ''), fc.string({ maxLength: 8 })),
            url: fc.oneof(secretUrl, fc.string({ maxLength: 20 })),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
    },
    { weight: 1, arbitrary: fc.dictionary(keyArb, tie('v'), { maxKeys: 4 }) },
  ),
})).v;
/** What a password field may hold in a broken file: the secret as a string, inside a list or map. */
const secretValueArb = fc.constantFrom<unknown>(SECRET, [SECRET], { x: SECRET }, `${SECRET}\n${SECRET}`, [
  [SECRET],
]);
const sectionArb = fc.dictionary(keyArb, valueArb, { maxKeys: 5 });
const docArb = fc
  .record({
    base: fc.dictionary(
      fc.oneof(fc.constantFrom(...sections), keyArb),
      fc.oneof({ weight: 5, arbitrary: sectionArb }, { weight: 1, arbitrary: valueArb }),
      { maxKeys: 4 },
    ),
    secrets: fc.subarray(secretKeys),
    secretValue: secretValueArb,
  })
  .map(({ base, secrets, secretValue }) => {
    const doc: Record<string, unknown> = { ...base };
    for (const p of secrets) {
      const [s, k] = p.split('.') as [string, string];
      const sec = doc[s];
      doc[s] = {
        ...(typeof sec === 'object' && sec !== null && !Array.isArray(sec) ? sec : {}),
        [k]: secretValue,
      };
    }
    return doc;
  });
/** Inserts text at a position, moved past any secret or URL carrying one: the structure breaks, the secret stays whole. */
function insertOutsideSecrets(t: string, at: number, ins: string): string {
  let i = at % (t.length + 1);
  for (const m of t.matchAll(new RegExp(`[a-z]+://user:${SECRET}@host\\.example:1234/path|${SECRET}`, 'g'))) {
    if (i > m.index && i < m.index + m[0].length) i = m.index + m[0].length;
  }
  return t.slice(0, i) + ins + t.slice(i);
}
/**
 * YAML text: serialised documents, the same with bytes mangled, and raw junk. Mangling can turn a
 * password line into a key (`? pw`); an unknown key is always named, so there it may show.
 */
const yamlTextArb = fc.oneof(
  { weight: 4, arbitrary: docArb.map((d) => ({ text: toYaml(d), mangled: false })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        docArb.map((d) => toYaml(d)),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom(
              ':',
              '-',
              '[',
              '{',
              '"',
              "'",
              '&a',
              '*a',
              '!!binary',
              '\t',
              '\n  ',
              '#',
              '%YAML 1.2\n---\n',
              '? ',
              '|',
              '>',
            ),
          ),
          { maxLength: 4 },
        ),
      )
      .map(([text, edits]) => ({
        text: edits.reduce((t, [at, ins]) => insertOutsideSecrets(t, at, ins), text),
        mangled: true,
      })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ text, mangled: false })) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, mangled: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'a: &a [*a]',
        'city: &c\n  x: *c',
        'gateway:\n  cameras: &l [*l]',
        'x: !!js/function "() => 1"',
        '---\n---\n',
        '- 1\n- 2',
        '"just a string"',
        '123',
        'a: 1\na: 2',
      )
      .map((text) => ({ text, mangled: false })),
  },
);
const rawValueArb = fc.oneof(
  scalarArb.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
  valueArb.map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const envArb = fc.record({
  named: fc.dictionary(
    fc.constantFrom(...leafPaths.map(envName), ...Object.keys(envAliases), 'FACEGATE_NOPE', 'FACEGATE_CITY'),
    rawValueArb,
    { maxKeys: 4 },
  ),
  secretEnv: fc.subarray(secretKeys.map(envName)),
});
const setArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...leafPaths), rawValueArb).map(([p, v]) => `${p}=${v}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(keyArb, fc.constantFrom(...sections)), rawValueArb)
      .map(([p, v]) => `${p}=${v}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(...secretKeys).map((p) => `${p}=${SECRET}`) },
);

/** Loads; a failure must be a ConfigError (exit 2) on one line that names a key, a file or the flag, and no secret. */
function checkLoad(input: Parameters<typeof loadConfig>[0], secretMayBeKey = false): 'ok' | 'error' {
  try {
    const cfg = loadConfig(input);
    assert.equal(typeof cfg.city.cameras, 'number');
    return 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError))
      throw new Error(
        `loadConfig threw ${String(err)} (${err instanceof Object ? err.constructor.name : typeof err})`,
      );
    assert.equal(err.exitCode, 2);
    const m = err.message;
    assert.ok(oneLine(m), `message spans lines: ${JSON.stringify(m)}`);
    const unknownKeys = /^config: unknown config key (.*?) \(from /.exec(m)?.[1];
    assert.ok(
      !(secretMayBeKey && unknownKeys ? m.replace(unknownKeys, '') : m).includes(SECRET),
      `secret in message: ${m}`,
    );
    assert.ok(m.length < 2000, `message of ${m.length} chars`);
    const named =
      /^config: unknown config key \S/.test(m) ||
      /^config: --set takes path=value/.test(m) ||
      /^config: config file .* (is not valid YAML|must hold a mapping)/.test(m) ||
      sections.some((s) => m.startsWith(`config: ${s}.`) || m.startsWith(`config: ${s}: `));
    assert.ok(named, `message names no key: ${m}`);
    return 'error';
  }
}

test('config loader: random YAML files give a config or a one-line ConfigError naming a key, never a secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-fuzz-'));
  const file = join(dir, 'facegate.yaml');
  const seen = { ok: 0, error: 0 };
  try {
    fc.assert(
      fc.property(yamlTextArb, ({ text, mangled }) => {
        writeFileSync(file, text);
        seen[checkLoad({ file }, mangled)]++;
      }),
      runs(10_000),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Both outcomes occur, so the property is not vacuous.
  assert.ok(seen.ok > 100 && seen.error > 1000, JSON.stringify(seen));
});

test('config loader: random environment and --set values give a config or a one-line ConfigError', () => {
  const seen = { ok: 0, error: 0 };
  fc.assert(
    fc.property(envArb, fc.array(setArb, { maxLength: 4 }), ({ named, secretEnv }, sets) => {
      const env: Record<string, string> = { ...named };
      for (const n of secretEnv) env[n] = SECRET;
      seen[checkLoad({ env, sets })]++;
    }),
    runs(15_000),
  );
  assert.ok(seen.ok > 500 && seen.error > 1000, JSON.stringify(seen));
});

test('config loader: secrets and URL credentials in bad values are masked in errors', () => {
  // [sets, env, whether the message shows the value (masked)]
  const cases: [string[], Record<string, string>, boolean][] = [
    [[`mqtt.url=http://u:${SECRET}@h`], {}, true],
    [[`gateway.cameras={"url":"rtsp://u:${SECRET}@h"}`], {}, true],
    [[`gateway.cameras=[{"id":"a b","url":"rtsp://u:${SECRET}@h"}]`], {}, false],
    [[`gateway.cameras={"id":"ok","url":"rtsp://u:${SECRET}@h/x"}`], {}, true],
    [[`gateway.cameras="${'x'.repeat(185)}rtsp://u:${SECRET}@h"`], {}, true],
    [[], { FACEGATE_MQTT_URL: `http://u:p@ss${SECRET}@h` }, true],
    [[`simulator.password=${SECRET}`, 'simulator.port=x'], { FACEGATE_MQTT_PASSWORD: SECRET }, false],
  ];
  for (const [sets, env, shown] of cases) {
    assert.throws(
      () => loadConfig({ sets, env }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.ok(!err.message.includes(SECRET.slice(0, 6)), err.message);
        if (shown) assert.match(err.message, /\*\*\*/);
        return true;
      },
    );
  }
  // A password of the wrong type in a file is not echoed either.
  const dir = mkdtempSync(join(tmpdir(), 'facegate-fuzz-'));
  try {
    for (const [i, v] of ['[hunter2-pw]', '{a: hunter2-pw}', '12345678'].entries()) {
      const file = join(dir, `c${i}.yaml`);
      writeFileSync(file, `mqtt:\n  password: ${v}\n`);
      assert.throws(
        () => loadConfig({ file }),
        (err: Error) =>
          err instanceof ConfigError &&
          /^config: mqtt\.password: \*\*\* /.test(err.message) &&
          !/hunter2|12345678/.test(err.message),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('redactUrl masks the whole password whatever it holds', () => {
  const pw = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\s/"]/.test(s));
  fc.assert(
    fc.property(
      fc.constantFrom('rtsp', 'mqtt', 'mqtts', 'wss'),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
      pw,
      (scheme, user, pass) => {
        const url = `${scheme}://${user}:${pass}@camera.local:554/cam/1`;
        assert.equal(
          redactUrl(`failed: ${url} (401)`),
          `failed: ${scheme}://${user}:***@camera.local:554/cam/1 (401)`,
        );
        assert.equal(
          redactUrl(JSON.stringify({ url, other: 'x' })),
          JSON.stringify({ url: `${scheme}://${user}:***@camera.local:554/cam/1`, other: 'x' }),
        );
      },
    ),
    runs(20_000),
  );
});

// ---------------------------------------------------------------- control and catalog

const kinds = ['stall', 'disconnect', 'corrupt', 'wrongPassword', 'flap', 'none', 'explode', ''];
const numArb = fc.oneof(
  fc.integer({ min: -5, max: 200_000 }),
  fc.double(),
  fc.constantFrom(0, 1, 0.5, 100_000, 100_001),
  fc.string({ maxLength: 4 }),
);
const controlLikeArb = fc.record(
  {
    cameras: numArb,
    fault: fc.record(
      {
        kind: fc.constantFrom(...kinds),
        camera: fc.oneof(
          fc.constantFrom('000001', '123456789', '12345', 'abcdef'),
          fc.string({ maxLength: 8 }),
        ),
        fraction: numArb,
        seed: numArb,
        everyS: numArb,
        probability: numArb,
        upS: numArb,
        downS: numArb,
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: ['kind'] },
    ),
    clearFaults: fc.oneof(fc.constant(true), fc.jsonValue({ maxDepth: 0 })),
    other: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
/** Messages the schema accepts, so that the valid branch is exercised as often as the refusals. */
const validControlArb = fc.record(
  {
    cameras: fc.integer({ min: 1, max: 100_000 }),
    fault: fc.oneof(
      fc.record({
        kind: fc.constantFrom('stall', 'wrongPassword', 'none'),
        camera: fc.stringMatching(/^\d{6,8}$/),
      }),
      fc.record(
        {
          kind: fc.constant('disconnect'),
          everyS: fc.double({ min: 0.001, max: 3600, noNaN: true }),
          fraction: fc.double({ min: 0, max: 1, noNaN: true }),
          seed: fc.nat(),
        },
        { requiredKeys: ['kind', 'fraction'] },
      ),
      fc.record(
        {
          kind: fc.constant('flap'),
          upS: fc.integer({ min: 1, max: 3600 }),
          downS: fc.integer({ min: 1, max: 3600 }),
          camera: fc.stringMatching(/^\d{6}$/),
        },
        { requiredKeys: ['kind', 'camera'] },
      ),
      fc.record({
        kind: fc.constant('corrupt'),
        probability: fc.double({ min: 0, max: 1, noNaN: true }),
        fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    ),
    clearFaults: fc.constant(true),
  },
  { requiredKeys: [] },
);
/** JSON payloads, the same cut short, and raw bytes. */
function payloads(structured: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  const json = fc.oneof(structured, fc.jsonValue({ maxDepth: 3 })).map((v) => Buffer.from(JSON.stringify(v)));
  return fc.oneof(
    { weight: 4, arbitrary: json },
    { weight: 1, arbitrary: json.chain((b) => fc.nat({ max: b.length }).map((n) => b.subarray(0, n))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map((s) => Buffer.from(s)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        Buffer.alloc(70_000, 0x20),
        Buffer.from('{"cameras":1}'.padEnd(65_537)),
        Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
        Buffer.from('{"__proto__":{"cameras":5}}'),
      ),
    },
  );
}

test('parseControl: random JSON and bytes give a valid message or a one-line error, never a throw', () => {
  const seen = { ok: 0, error: 0 };
  const target: ControlTarget & { calls: number } = {
    calls: 0,
    setCount(n) {
      assert.ok(Number.isInteger(n) && n >= 1 && n <= 100_000, `setCount(${n})`);
      this.calls++;
    },
    setFault(id) {
      assert.match(id, /^\d{6,}$/);
      this.calls++;
    },
    setFaultFraction(_f, fraction, s) {
      assert.ok(fraction >= 0 && fraction <= 1 && Number.isInteger(s) && s >= 0);
      this.calls++;
    },
    clearFaults() {
      this.calls++;
    },
  };
  fc.assert(
    fc.property(fc.oneof(payloads(controlLikeArb), payloads(validControlArb)), (buf) => {
      const r = parseControl(buf);
      if (r.ok) {
        seen.ok++;
        target.calls = 0;
        const done = applyControl(r.msg, target);
        assert.ok(done.length > 0 && target.calls > 0, `valid message did nothing: ${buf.toString()}`);
      } else {
        seen.error++;
        assert.equal(typeof r.error, 'string');
        assert.ok(r.error.length > 0 && r.error.length < 500 && oneLine(r.error), JSON.stringify(r.error));
      }
    }),
    runs(30_000),
  );
  assert.ok(seen.ok > 2000 && seen.error > 5000, JSON.stringify(seen));
});

const catalogLikeArb = fc.record(
  {
    v: fc.oneof(
      { weight: 5, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) },
    ),
    cameras: fc.oneof(
      fc.array(
        fc.record(
          {
            id: fc.oneof(
              { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/) },
              { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
            ),
            url: fc.oneof(
              {
                weight: 6,
                arbitrary: fc.stringMatching(/^rtsps?:\/\/[a-z0-9.]{1,12}(:\d{1,5})?\/cam\/\d{6}$/),
              },
              fc.stringMatching(/^rtsps?:\/\/[a-z0-9.]{1,12}(:\d{1,5})?\/cam\/\d{6}$/),
              fc.string({ maxLength: 30 }),
              fc.constantFrom('rtsp://', 'rtsp://a b', 'http://h/x', 'rtsp://u:p@h/x'),
            ),
            extra: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: ['id', 'url'] },
        ),
        { maxLength: 5 },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    count: fc.nat(),
  },
  { requiredKeys: ['v'] },
);

test('parseCatalog: random payloads give cameras with credentials from config only, or a one-line error', () => {
  const seen = { ok: 0, error: 0 };
  fc.assert(
    fc.property(
      payloads(catalogLikeArb),
      fc.record({
        username: fc.oneof(fc.constant(''), fc.string({ maxLength: 10 })),
        password: fc.string({ maxLength: 12 }),
      }),
      (buf, creds) => {
        const r = parseCatalog(buf, creds);
        if (!r.ok) {
          seen.error++;
          assert.ok(r.error.length > 0 && r.error.length < 500 && oneLine(r.error), JSON.stringify(r.error));
          return;
        }
        seen.ok++;
        const raw = (JSON.parse(buf.toString('utf8')) as { cameras: { id: string; url: string }[] }).cameras;
        assert.equal(r.cameras.length, raw.length);
        r.cameras.forEach((c, i) => {
          const src = raw[i]!;
          assert.equal(c.id, src.id);
          assert.match(c.id, /^[A-Za-z0-9_.-]{1,64}$/);
          const auth = creds.username
            ? `${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.password)}@`
            : '';
          const [scheme, rest] = src.url.split(/:\/\/(.*)/s) as [string, string];
          // The credentials are the gateway's, percent-encoded into the userinfo, nothing else changes.
          assert.equal(c.url, `${scheme}://${auth}${rest}`);
          if (auth)
            assert.doesNotMatch(
              c.url.slice(scheme.length + 3, scheme.length + 3 + auth.length - 1),
              /[@/\s]/,
            );
        });
      },
    ),
    runs(20_000),
  );
  assert.ok(seen.ok > 500 && seen.error > 5000, JSON.stringify(seen));
});

// ---------------------------------------------------------------- simulator shards' topics

test('shard topics and catalogs: random topics and payloads never throw; the console merges shards into one city', () => {
  const P = 'fg';
  const levelArb = fc.oneof(
    fc.constantFrom('simulator', 'shards', 'catalog', 'status', 'set', '+', '#', '', '1of2', 'sim-a'),
    fc.string({ maxLength: 8 }),
  );
  const topicArb = fc.array(levelArb, { minLength: 0, maxLength: 5 }).map((l) => [P, ...l].join('/'));
  const camArb = fc.record({
    id: fc.oneof(fc.constantFrom('000001', '000002', '000003'), fc.string({ maxLength: 8 })),
    url: fc.constantFrom('rtsp://a:8554/cam/1', 'rtsp://b:8554/cam/2', 'http://x', ''),
    district: fc.string({ maxLength: 6 }),
  });
  const payloadArb = fc.oneof(
    fc.constant(Buffer.alloc(0)),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc
      .record({ v: fc.constant(1), cameras: fc.array(camArb, { maxLength: 6 }) })
      .map((o) => Buffer.from(JSON.stringify(o))),
    fc.jsonValue().map((j) => Buffer.from(JSON.stringify(j))),
  );
  const topics = createTopics(P);
  // The simulator's topics as the old shared/simulator-topics.ts named them: catalog or status of a shard.
  const parseSimulatorTopic = (topic: string): { kind: 'catalog' | 'status'; shard: string } | undefined => {
    const t = parseTopic(topic, P);
    if (t?.kind === 'catalog') return { kind: 'catalog', shard: t.shard };
    if (t?.kind === 'simulatorStatus') return { kind: 'status', shard: t.shard };
    return undefined;
  };
  const simulatorTopic = (shard: string | undefined, kind: 'catalog' | 'status'): string =>
    kind === 'catalog' ? topics.simulatorCatalog(shard) : topics.simulatorStatus(shard);
  fc.assert(
    fc.property(fc.array(fc.tuple(topicArb, payloadArb), { maxLength: 20 }), (msgs) => {
      const state = createConsoleState(P);
      const shards = new Map<string, Set<string>>();
      for (const [topic, payload] of msgs) {
        const t = parseSimulatorTopic(topic);
        if (t) {
          // What it parsed is what the topic builders would have named.
          assert.equal(simulatorTopic(t.shard || undefined, t.kind), topic);
        }
        state.apply(topic, payload);
        if (t?.kind !== 'catalog') continue;
        // The model: an empty payload forgets the shard, a JSON object replaces its cameras,
        // anything else is ignored.
        let o: unknown;
        try {
          o = payload.length ? JSON.parse(payload.toString()) : undefined;
        } catch {
          continue;
        }
        if (payload.length === 0) shards.delete(t.shard);
        else if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
          const cams = (o as { cameras?: unknown }).cameras;
          shards.set(
            t.shard,
            new Set((Array.isArray(cams) ? (cams as { id?: unknown }[]) : []).map((c) => String(c?.id))),
          );
        }
      }
      const merged = state.snapshot().catalog.cameras.map((c) => c.id);
      assert.equal(new Set(merged).size, merged.length, 'one entry per camera id');
      for (const id of merged)
        assert.ok(
          [...shards.values()].some((s) => s.has(id)),
          `${id} from some shard`,
        );
    }),
    runs(3000),
  );
  for (const shard of ['', '2of8', 'sim-a'])
    for (const kind of ['catalog', 'status'] as const)
      assert.deepEqual(parseSimulatorTopic(simulatorTopic(shard || undefined, kind)), { kind, shard });
  assert.equal(parseSimulatorTopic(`${P}/simulator/set`), undefined);
  assert.deepEqual(parseTopic(`${P}/simulator/set`, P), { kind: 'simulatorSet' });
});

// ---------------------------------------------------------------- topic ids

test('topic ids: valid exactly when usable as one MQTT topic level; invalid ones give a one-line UserError', () => {
  const idArb = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({
      unit: fc.constantFrom('a', '0', '/', '+', '#', '\u0000', '\n', ' ', '\uD800', '\uDC00', 'é', '😀'),
      maxLength: 8,
    }),
    fc.string({ minLength: 120, maxLength: 140, unit: fc.constantFrom('a', 'b') }),
  );
  const topics = createTopics('city/a');
  let valid = 0;
  fc.assert(
    fc.property(idArb, (id) => {
      const ok = isValidId(id);
      const expected =
        id.length >= 1 &&
        id.length <= 128 &&
        !/[+#/\u0000]/.test(id) &&
        Buffer.from(id, 'utf8').toString('utf8') === id;
      assert.equal(ok, expected, `isValidId(${JSON.stringify(id)})`);
      if (ok) {
        valid++;
        assert.equal(badId(id), undefined);
        for (const t of [
          topics.faces(id),
          topics.cameraStatus(id),
          topics.gatewayStatus(id),
          topics.gatewayStats(id),
        ]) {
          const levels = t.split('/');
          assert.equal(levels.length, 5);
          assert.equal(levels[3], id);
          assert.ok(!/[+#\u0000]/.test(t));
        }
      } else {
        assert.throws(
          () => assertId('camera', id),
          (e: Error) => e instanceof UserError && e.exitCode === 2 && oneLine(e.message),
        );
        assert.throws(() => topics.faces(id), UserError);
      }
    }),
    runs(50_000),
  );
  assert.ok(valid > 5000, `valid ids: ${valid}`);
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (prefix) => {
      try {
        const t = createTopics(prefix);
        assert.ok(t.prefix.length > 0 && !/[+#\u0000]/.test(t.prefix) && !t.prefix.endsWith('/'));
      } catch (e) {
        assert.ok(e instanceof UserError && e.exitCode === 2 && oneLine(e.message), String(e));
      }
    }),
    runs(20_000),
  );
});

// ---------------------------------------------------------------- RTSP request parser

interface Req {
  method: string;
  uri: string;
  cseq: number;
  headers: [string, string][];
  body: string;
}
const validReqArb: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom(
    'OPTIONS',
    'DESCRIBE',
    'SETUP',
    'PLAY',
    'TEARDOWN',
    'GET_PARAMETER',
    'SET_PARAMETER',
  ),
  uri: fc.oneof(
    fc.constant('*'),
    fc.stringMatching(/^rtsp:\/\/[a-z0-9.]{1,10}(:\d{1,5})?\/cam\/\d{6}(\/trackID=0)?$/),
  ),
  cseq: fc.nat({ max: 2 ** 31 }),
  headers: fc.array(
    fc.tuple(
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !/^(cseq|content-length)$/i.test(n)),
      fc.stringMatching(/^[ -~]{0,40}$/).map((v) => v.trim()),
    ),
    { maxLength: 4 },
  ),
  body: fc.string({
    maxLength: 50,
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  }),
});
type Item = { kind: 'req'; req: Req } | { kind: 'frame'; channel: number; data: Buffer };
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 3, arbitrary: validReqArb.map((req) => ({ kind: 'req' as const, req })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.nat({ max: 255 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 60 }),
          fc.integer({ min: 1000, max: 20_000 }).map((n) => new Uint8Array(n)),
        ),
      )
      .map(([channel, d]) => ({ kind: 'frame' as const, channel, data: Buffer.from(d) })),
  },
);
function serialize(item: Item): Buffer {
  if (item.kind === 'frame')
    return Buffer.concat([
      Buffer.from([0x24, item.channel, item.data.length >> 8, item.data.length & 0xff]),
      item.data,
    ]);
  const r = item.req;
  const head = [
    `${r.method} ${r.uri} RTSP/1.0`,
    `CSeq: ${r.cseq}`,
    ...r.headers.map(([k, v]) => `${k}: ${v}`),
    ...(r.body ? [`Content-Length: ${r.body.length}`] : []),
  ];
  return Buffer.from(head.join('\r\n') + '\r\n\r\n' + r.body, 'latin1');
}
/** Cuts a buffer at random points. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  return out;
}
const describeEvent = (e: ParseEvent): string =>
  e.kind === 'request'
    ? `req ${e.request.method} ${e.request.uri} ${e.request.cseq} ${e.request.body.toString('latin1')} ${[...e.request.headers].join('|')}`
    : e.kind === 'interleaved'
      ? `$${e.channel}/${e.length}`
      : `error ${e.reason}`;

test('RTSP request parser: valid requests and interleaved frames come out the same however the bytes are cut', () => {
  fc.assert(
    fc.property(
      fc.array(itemArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (items, cuts) => {
        const whole = Buffer.concat(items.map(serialize));
        const p = createRequestParser();
        const events = split(whole, cuts).flatMap((c) => p.push(c));
        assert.equal(events.length, items.length, events.map(describeEvent).join('; '));
        items.forEach((it, i) => {
          const e = events[i]!;
          if (it.kind === 'frame') {
            assert.deepEqual(e, { kind: 'interleaved', channel: it.channel, length: it.data.length });
          } else {
            assert.equal(e.kind, 'request', describeEvent(e));
            if (e.kind !== 'request') return;
            assert.equal(e.request.method, it.req.method);
            assert.equal(e.request.uri, it.req.uri);
            assert.equal(e.request.cseq, String(it.req.cseq));
            assert.equal(e.request.body.toString('latin1'), it.req.body);
            const first = it.req.headers.find(
              ([k]) => k.toLowerCase() === (it.req.headers[0]?.[0] ?? '').toLowerCase(),
            );
            if (first) assert.equal(e.request.headers.get(first[0].toLowerCase()), first[1]);
          }
        });
      },
    ),
    runs(10_000),
  );
});

const junkChunkArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  itemArb.map(serialize),
  itemArb.map(serialize).chain((b) => fc.nat({ max: b.length }).map((n) => b.subarray(0, n))),
  fc.tuple(itemArb.map(serialize), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, byte]) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[at % c.length] = byte;
    return c;
  }),
  fc.constantFrom(
    Buffer.from('\r\n'),
    Buffer.from('$'),
    Buffer.from([0x24, 0, 0xff, 0xff]),
    Buffer.alloc(3000, 0x41),
    Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999\r\n\r\n'),
  ),
);

test('RTSP request parser: garbage never throws, errors are terminal, requests it returns are well-formed', () => {
  const limits = { maxHeaderBytes: 2048, maxBodyBytes: 1024 };
  let errors = 0;
  fc.assert(
    fc.property(fc.array(junkChunkArb, { minLength: 1, maxLength: 10 }), (chunks) => {
      const p = createRequestParser(limits);
      let failed = false;
      for (const c of chunks) {
        const evs = p.push(c);
        if (failed) assert.deepEqual(evs, [], 'events after a terminal error');
        for (const e of evs) {
          if (e.kind === 'error') {
            assert.ok(!failed, 'two errors');
            failed = true;
            errors++;
            assert.ok(e.reason.length > 0 && oneLine(e.reason));
            if (e.cseq !== undefined) assert.match(e.cseq, /^\d{1,10}$/);
          } else if (e.kind === 'request') {
            assert.ok(!failed);
            assert.match(e.request.method, /^[A-Z_]{1,32}$/);
            assert.match(e.request.cseq ?? '', /^\d{1,10}$/);
            assert.match(e.request.version, /^RTSP\/1\.\d$/);
            assert.ok(e.request.body.length <= limits.maxBodyBytes);
          } else {
            assert.ok(e.channel >= 0 && e.channel <= 255 && e.length >= 0 && e.length <= 65535);
          }
        }
      }
    }),
    runs(20_000),
  );
  assert.ok(errors > 2000, `errors: ${errors}`);
});

test('RTSP request parser: a header without end and a large interleaved frame are not buffered', () => {
  const p = createRequestParser({ maxHeaderBytes: 8192, maxBodyBytes: 8192 });
  let total = 0;
  let err: ParseEvent | undefined;
  while (!err && total < 1_000_000) {
    const evs = p.push(Buffer.alloc(100, 0x41));
    total += 100;
    err = evs.find((e) => e.kind === 'error');
  }
  assert.deepEqual(err, { kind: 'error', reason: 'header too large' });
  assert.ok(total <= 8192 + 100, `error after ${total} bytes`);

  // A 64 KiB interleaved frame fed byte by byte, then a request: skipped in place, then parsed.
  const q = createRequestParser();
  const frame = Buffer.concat([Buffer.from([0x24, 1, 0xff, 0xff]), Buffer.alloc(0xffff, 0x24)]);
  const events: ParseEvent[] = [];
  for (let i = 0; i < frame.length; i += 7) events.push(...q.push(frame.subarray(i, i + 7)));
  events.push(...q.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n')));
  assert.deepEqual(events.map(describeEvent), ['$1/65535', 'req OPTIONS * 9  cseq,9']);
});

// ---------------------------------------------------------------- load reader stream

interface Resp {
  status: number;
  body: string;
}
type SItem =
  | { kind: 'resp'; resp: Resp }
  | { kind: 'rtp'; channel: number; len: number; seq: number; marker: boolean };
const sItemArb: fc.Arbitrary<SItem> = fc.oneof(
  fc
    .record({
      status: fc.integer({ min: 100, max: 599 }),
      body: fc.string({
        maxLength: 80,
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      }),
    })
    .map((resp) => ({ kind: 'resp' as const, resp: { status: resp.status, body: resp.body } })),
  fc
    .record({
      channel: fc.constantFrom(0, 1),
      len: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1000, max: 65535 })),
      seq: fc.nat({ max: 65535 }),
      marker: fc.boolean(),
    })
    .map((f) => ({ kind: 'rtp' as const, ...f })),
);
function sSerialize(it: SItem): Buffer {
  if (it.kind === 'resp') {
    const b = it.resp.body;
    return Buffer.from(
      `RTSP/1.0 ${it.resp.status} X\r\nCSeq: 1\r\n${b ? `Content-Length: ${b.length}\r\n` : ''}\r\n${b}`,
      'latin1',
    );
  }
  const pkt = Buffer.alloc(4 + it.len);
  pkt[0] = 0x24;
  pkt[1] = it.channel;
  pkt.writeUInt16BE(it.len, 2);
  if (it.len >= 12) {
    pkt[4] = 0x80;
    pkt[5] = (it.marker ? 0x80 : 0) | 96;
    pkt.writeUInt16BE(it.seq, 6);
  }
  return pkt;
}
function newReader(): SessionCounts & { destroyed: number } {
  return { ...newCounts(), state: 'playing', destroyed: 0 };
}

/**
 * The load reader's view of a server's byte stream: rtsp/response.ts with its limits and the
 * 12-byte frame heads, load-counts.ts counting; an error drops the connection, as rtsp/client.ts does.
 */
function createStreamParser(
  r: SessionCounts & { destroyed: number },
  onResponse: (res: RtspResponse) => void,
): (chunk: Buffer) => void {
  const p = createResponseParser({ maxHeaderBytes: 16_384, maxBodyBytes: 49_152, keepFrameBytes: 12 });
  let dead = false;
  return (chunk) => {
    if (dead) return;
    for (const e of p.push(chunk)) {
      if (e.kind === 'frame') countPacket(r, e.frame.channel, e.frame.length, e.frame.data);
      else if (e.kind === 'response') onResponse(e.response);
      else {
        dead = true;
        r.destroyed++;
        return;
      }
    }
  };
}

test('stream parser: responses and interleaved packets are counted exactly however the bytes are cut', () => {
  fc.assert(
    fc.property(
      fc.array(sItemArb, { minLength: 1, maxLength: 10 }),
      fc.array(fc.nat(), { maxLength: 16 }),
      (items, cuts) => {
        const r = newReader();
        const got: Resp[] = [];
        const parse = createStreamParser(r, (res) =>
          got.push({ status: res.status, body: res.body.toString('latin1') }),
        );
        for (const c of split(Buffer.concat(items.map(sSerialize)), cuts)) parse(c);
        const rtp = items.filter((i): i is Extract<SItem, { kind: 'rtp' }> => i.kind === 'rtp');
        assert.deepEqual(
          got,
          items.flatMap((i) => (i.kind === 'resp' ? [i.resp] : [])),
        );
        assert.equal(r.packets, rtp.length);
        assert.equal(
          r.bytes,
          rtp.reduce((s, i) => s + i.len + 4, 0),
        );
        assert.equal(r.frames, rtp.filter((i) => i.channel === 0 && i.len >= 12 && i.marker).length);
        assert.equal(r.destroyed, 0);
      },
    ),
    runs(10_000),
  );
});

test('stream parser: garbage never throws; a bad or huge Content-Length drops the connection', () => {
  let dropped = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          sItemArb.map(sSerialize),
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc
            .constantFrom('-5', '99999999', '1e3', 'x', '65000', ' ')
            .map((cl) => Buffer.from(`RTSP/1.0 200 OK\r\nContent-Length: ${cl}\r\n\r\nabc`)),
        ),
        { minLength: 1, maxLength: 8 },
      ),
      (chunks) => {
        const r = newReader();
        let responses = 0;
        const parse = createStreamParser(r, ({ status }) => {
          assert.ok(Number.isInteger(status) && status >= 0 && status <= 999);
          assert.equal(r.destroyed, 0, 'a response after the drop');
          responses++;
        });
        for (const c of chunks) parse(c);
        if (r.destroyed > 0) dropped++;
        // Nothing is invented: every packet starts at a '$' and every response at 'RTSP/' of the input.
        const all = Buffer.concat(chunks);
        let dollars = 0;
        for (const byte of all) if (byte === 0x24) dollars++;
        const statusLines = all.toString('latin1').split('RTSP/').length - 1;
        assert.ok(r.packets <= dollars, `packets ${r.packets} > '$' bytes ${dollars}`);
        assert.ok(responses <= statusLines, `responses ${responses} > status lines ${statusLines}`);
      },
    ),
    runs(10_000),
  );
  assert.ok(dropped > 500, `dropped: ${dropped}`);

  for (const cl of ['-5', '99999999']) {
    const r = newReader();
    const parse = createStreamParser(r, () => assert.fail('no response expected'));
    parse(Buffer.from(`RTSP/1.0 200 OK\r\nContent-Length: ${cl}\r\n\r\n`));
    for (let i = 0; i < 100; i++) parse(Buffer.alloc(10_000, 0x41));
    assert.equal(r.destroyed, 1, `Content-Length ${cl}`);
  }
  const r = newReader();
  const parse = createStreamParser(r, () => undefined);
  for (let i = 0; i < 100 && r.destroyed === 0; i++) parse(Buffer.alloc(1000, 0x41));
  assert.equal(r.destroyed, 1, 'a response header without end is dropped after 64 KiB');
});

// ---------------------------------------------------------------- SDP

test('SDP: every line is a well-formed field and the track control is where readers look for it', () => {
  const clipArb = fc.record({
    index: fc.nat({ max: 63 }),
    width: fc.integer({ min: 32, max: 3840 }),
    height: fc.integer({ min: 32, max: 2160 }),
    fps: fc.integer({ min: 1, max: 60 }),
    frames: fc.nat({ max: 1000 }),
    bytes: fc.nat({ max: 1e9 }),
    sprop: fc.stringMatching(/^[A-Za-z0-9+/=]{4,40},[A-Za-z0-9+/=]{4,20}$/),
    plid: fc.stringMatching(/^[0-9a-f]{6}$/),
  });
  const hostArb = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
  fc.assert(
    fc.property(clipArb, fc.stringMatching(/^\d{6}$/), hostArb, (c, cam, host) => {
      const clip = {
        index: c.index,
        width: c.width,
        height: c.height,
        fps: c.fps,
        frames: new Array(c.frames),
        nextIdr: new Int32Array(0),
        spropParameterSets: c.sprop,
        profileLevelId: c.plid,
        bytes: c.bytes,
      } as LoadedClip;
      const sdp = buildSdp(clip, cam, host);
      assert.ok(sdp.endsWith('\r\n') && !sdp.includes('\n\n') && !/[^\r]\n/.test(sdp));
      const lines = sdp.slice(0, -2).split('\r\n');
      assert.equal(lines[0], 'v=0');
      for (const l of lines) assert.match(l, /^[a-z]=[^\r\n\0]+$/);
      const order = lines.map((l) => l[0]).join('');
      // RFC 4566 5: session fields v o s ... c ... t, then media m and its fields.
      assert.match(order, /^vosct(a)*mba+$/);
      assert.equal(lines.filter((l) => l.startsWith('m=')).length, 1);
      assert.match(lines.find((l) => l.startsWith('b=AS:')) ?? '', /^b=AS:\d+$/);
      assert.ok(
        lines.some(
          (l) =>
            l.startsWith('o=') && l.endsWith(` ${host}`) && l.includes(host.includes(':') ? 'IP6' : 'IP4'),
        ),
      );
      // What the load reader and ffmpeg read: session control '*', media control the track.
      const controls = [...sdp.matchAll(/^a=control:(\S+)/gm)].map((m) => m[1]);
      assert.deepEqual(controls, ['*', TRACK_CONTROL]);
    }),
    runs(10_000),
  );
});

// ---------------------------------------------------------------- memory

test('memory: a long run of garbage through every parser leaves the heap where it was', () => {
  const chunks = fc.sample(junkChunkArb, { numRuns: 2000, seed });
  const ctrl = fc.sample(payloads(controlLikeArb), { numRuns: 500, seed });
  const cat = fc.sample(payloads(catalogLikeArb), { numRuns: 500, seed });
  const round = (): void => {
    for (let k = 0; k < 20; k++) {
      const p = createRequestParser();
      const r = newReader();
      const s = createStreamParser(r, () => undefined);
      for (let i = k; i < chunks.length; i += 20) {
        p.push(chunks[i]!);
        s(chunks[i]!);
      }
    }
    for (const b of ctrl) parseControl(b);
    for (const b of cat) parseCatalog(b, { username: 'u', password: 'p' });
    for (let i = 0; i < 200; i++) {
      try {
        loadConfig({
          sets: [`city.cameras=${i}`, `gateway.cameras=[{"id":"c${i}","url":"rtsp://h/cam/${i}"}]`],
        });
        loadConfig({ sets: [`mqtt.url=http://x:${i}@h`] });
      } catch {
        // expected for the second
      }
    }
  };
  round(); // warm up
  const before = heapAfterGc();
  for (let i = 0; i < 5; i++) round();
  const growth = heapAfterGc() - before;
  assert.ok(growth < 3 * 1024 * 1024, `heap grew ${(growth / 1e6).toFixed(2)} MB over 5 rounds`);
});
