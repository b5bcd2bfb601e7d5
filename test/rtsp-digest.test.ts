// Digest on both sides (rtsp/digest.ts, rtsp/digest-server.ts): RFC 7616 vectors, SHA-256 and MD5,
// the server refusing a replayed header and a wrong uri, end to end against the simulator with the
// gateway's client and the load reader; then the fuzz targets for the challenge and Authorization
// parsers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import {
  createDigestClient,
  digestResponse,
  formatAuthorization,
  parseAuthorization,
  parseChallenge,
  pickChallenge,
  type AuthorizationParams,
} from '../rtsp/digest.ts';
import { createDigestVerifier } from '../rtsp/digest-server.ts';
import { formatRequest } from '../rtsp/request.ts';
import { createResponseParser, headerValues, type RtspResponse } from '../rtsp/response.ts';
import { startLoadReader } from '../simulator/rtsp/load-reader.ts';
import { createRtspServer, type RtspServer } from '../simulator/rtsp/server.ts';
import { startRtspClient, type CloseKind } from '../gateway/ingest/rtsp/rtsp-client.ts';
import { printable, runs } from './helpers/fuzz.ts';

const creds = { username: 'admin', password: 's3cret' };

test('digest: RFC 7616 3.9.1 example, MD5 and SHA-256', () => {
  const p = {
    username: 'Mufasa',
    password: 'Circle of Life',
    realm: 'http-auth@example.org',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  assert.equal(digestResponse({ ...p, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(
    digestResponse({ ...p, algorithm: 'SHA-256' }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

test('digest: the client prefers SHA-256, counts nc per nonce, answers RFC 2069 without qop', () => {
  const md5 = 'Digest realm="r", nonce="n1", algorithm=MD5';
  const sha = 'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth,auth-int"';
  assert.equal(pickChallenge([md5, sha])?.algorithm, 'SHA-256');
  assert.equal(
    pickChallenge(['Basic realm="r"', 'Digest realm="r", nonce="x", algorithm=SHA-512-256']),
    undefined,
  );
  const c = createDigestClient(creds);
  assert.ok(c.challenge([md5, sha]));
  const a1 = parseAuthorization(c.authorization('DESCRIBE', 'rtsp://h/a') ?? '');
  const a2 = parseAuthorization(c.authorization('SETUP', 'rtsp://h/a/t') ?? '');
  assert.deepEqual([a1?.algorithm, a1?.qop, a1?.nc, a2?.nc], ['SHA-256', 'auth', '00000001', '00000002']);
  assert.ok(c.challenge([md5]));
  const a3 = parseAuthorization(c.authorization('PLAY', 'rtsp://h/a') ?? '');
  assert.deepEqual([a3?.algorithm, a3?.qop, a3?.nonce], ['MD5', undefined, 'n1']);
});

test('digest server: replay (same or lower nc) refused, wrong uri refused, SHA-256 and MD5 accepted', () => {
  let t = 1_000_000;
  const v = createDigestVerifier(creds, 'facegate', 60_000, () => t);
  const [shaCh, md5Ch] = v.challenges();
  assert.match(shaCh ?? '', /algorithm=SHA-256, qop="auth"$/);
  assert.match(md5Ch ?? '', /algorithm=MD5$/);
  const c = createDigestClient(creds);
  c.challenge(v.challenges());
  const uri = 'rtsp://127.0.0.1:8554/cam/000001';
  const first = c.authorization('DESCRIBE', uri);
  const second = c.authorization('DESCRIBE', uri);
  assert.equal(v.check('DESCRIBE', uri, second), 'ok', 'nc 2');
  assert.equal(v.check('DESCRIBE', uri, second), 'replay', 'the same header again');
  assert.equal(v.check('DESCRIBE', uri, first), 'replay', 'a lower nc');
  assert.equal(v.check('DESCRIBE', uri, c.authorization('DESCRIBE', uri)), 'ok', 'nc 3');
  assert.equal(
    v.check('DESCRIBE', `${uri}/other`, c.authorization('DESCRIBE', uri)),
    'wrong',
    'uri of another request',
  );
  assert.equal(v.check('DESCRIBE', '/cam/000001', c.authorization('DESCRIBE', uri)), 'ok', 'the same path');
  // MD5 in the RFC 2069 form (ffmpeg, GStreamer): no nc, so no replay check; the uri still counts.
  const m = createDigestClient(creds);
  m.challenge([md5Ch ?? '']);
  const h = m.authorization('SETUP', uri);
  assert.equal(v.check('SETUP', uri, h), 'ok');
  assert.equal(v.check('SETUP', `${uri}x`, h), 'wrong');
  // An algorithm the server does not offer is refused.
  const only = createDigestVerifier(creds, 'facegate', 60_000, () => t, { algorithms: ['SHA-256'] });
  assert.equal(only.challenges().length, 1);
  assert.equal(only.check('SETUP', uri, h), 'wrong');
  t += 120_000;
  assert.equal(v.check('DESCRIBE', uri, c.authorization('DESCRIBE', uri)), 'stale');
});

test('digest server: clients challenged in the same millisecond get their own nonces; each nc 1 is accepted', () => {
  // Nonces were the issue time and its HMAC: five sessions of the load reader challenged at once
  // shared one, and every session after the first was refused as a replay.
  const v = createDigestVerifier(creds, 'facegate', 60_000, () => 1_000_000);
  const uri = 'rtsp://127.0.0.1:8554/cam/000001';
  const clients = Array.from({ length: 5 }, () => createDigestClient(creds));
  for (const c of clients) c.challenge(v.challenges());
  assert.equal(new Set(clients.map((c) => c.current()?.nonce)).size, 5);
  for (const c of clients) assert.equal(v.check('DESCRIBE', uri, c.authorization('DESCRIBE', uri)), 'ok');
});

test('digest server: counts are kept for a bounded number of nonces; a forgotten nonce is stale, not replayable', () => {
  let t = 1000;
  const v = createDigestVerifier(creds, 'facegate', 3_600_000, () => t, { maxNonces: 4 });
  const uri = 'rtsp://h/cam/1';
  const clients = Array.from({ length: 6 }, () => {
    t += 1;
    const c = createDigestClient(creds);
    c.challenge(v.challenges());
    return c;
  });
  const firstHeader = clients[0]!.authorization('OPTIONS', uri);
  assert.equal(v.check('OPTIONS', uri, firstHeader), 'ok');
  for (const c of clients.slice(1))
    assert.equal(v.check('OPTIONS', uri, c.authorization('OPTIONS', uri)), 'ok');
  assert.equal(
    v.check('OPTIONS', uri, firstHeader),
    'stale',
    'forgotten: refused as stale, so the client re-challenges',
  );
  assert.equal(v.check('OPTIONS', uri, clients[5]!.authorization('OPTIONS', uri)), 'ok');
});

// ---------------------------------------------------------------- against the simulator

const log = createLogger({ level: 'silent', format: 'json' });
const clip = makeTestClip(join(tmpdir(), 'facegate-rtsp-test'), { seconds: 4, gopS: 1 });
let sha: RtspServer;
let shaPort = 0;

before(async () => {
  sha = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [clip],
      resolve: () => ({ clip: 0, phaseS: 0 }),
      auth: { ...creds, algorithms: ['SHA-256'] },
    },
    { log },
  );
  shaPort = (await sha.listen()).port;
});
after(() => sha.close());

/** Sends requests on one connection; resolves with each response in turn. */
function exchange(
  port: number,
  requests: ((prev: RtspResponse | undefined) => string)[],
): Promise<RtspResponse[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    const p = createResponseParser();
    const got: RtspResponse[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout after ${got.length} responses`));
    }, 5000);
    s.on('connect', () => s.write(requests[0]!(undefined)));
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      for (const e of p.push(c)) {
        if (e.kind !== 'response') continue;
        got.push(e.response);
        const next = requests[got.length];
        if (next) s.write(next(e.response));
        else {
          clearTimeout(timer);
          s.destroy();
          resolve(got);
        }
      }
    });
  });
}

test('SHA-256 end to end: the gateway client plays; a replayed or misdirected header gets 401', async () => {
  const url = `rtsp://127.0.0.1:${shaPort}/cam/000001`;
  const c = createDigestClient(creds);
  let replay = '';
  const rs = await exchange(shaPort, [
    () => formatRequest('DESCRIBE', url, 1, []),
    (prev) => {
      assert.ok(c.challenge(headerValues(prev!, 'www-authenticate')));
      replay = c.authorization('DESCRIBE', url) ?? '';
      return formatRequest('DESCRIBE', url, 2, [['Authorization', replay]]);
    },
    () => formatRequest('DESCRIBE', url, 3, [['Authorization', replay]]),
    () =>
      formatRequest('DESCRIBE', url, 4, [
        ['Authorization', c.authorization('DESCRIBE', `${url}/trackID=0`) ?? ''],
      ]),
    () => formatRequest('DESCRIBE', url, 5, [['Authorization', c.authorization('DESCRIBE', url) ?? '']]),
  ]);
  assert.deepEqual(
    rs.map((r) => r.status),
    [401, 200, 401, 401, 200],
    'challenge, ok, replay refused, wrong uri refused, next nc ok',
  );
  assert.deepEqual(
    headerValues(rs[0]!, 'www-authenticate').map((h) => parseChallenge(h)?.algorithm),
    ['SHA-256'],
  );

  const closed: CloseKind[] = [];
  let keyframes = 0;
  const client = startRtspClient(
    { url: `rtsp://admin:s3cret@127.0.0.1:${shaPort}/cam/000002` },
    { onKeyframe: () => void keyframes++, onClose: (k) => void closed.push(k) },
  );
  const t0 = Date.now();
  while (keyframes === 0 && closed.length === 0 && Date.now() - t0 < 8000)
    await new Promise((r) => setTimeout(r, 50));
  await client.close();
  assert.ok(keyframes > 0, `keyframes ${keyframes}, closed ${closed.join(',')}`);
  assert.deepEqual(closed, ['closed']);

  const wrong: CloseKind[] = [];
  const bad = startRtspClient(
    { url: `rtsp://admin:nope@127.0.0.1:${shaPort}/cam/000002` },
    { onKeyframe: () => undefined, onClose: (k) => void wrong.push(k) },
  );
  while (wrong.length === 0 && Date.now() - t0 < 16_000) await new Promise((r) => setTimeout(r, 50));
  await bad.close();
  assert.deepEqual(wrong, ['unauthorized']);
});

test('SHA-256 end to end: the load reader plays every session (nc goes up on each request)', async () => {
  const reader = await startLoadReader({
    host: '127.0.0.1',
    port: shaPort,
    path: (i) => `/cam/${String(i + 1).padStart(6, '0')}`,
    sessions: 5,
    credentials: creds,
  });
  try {
    assert.deepEqual([reader.stats().playing, reader.stats().failures], [5, {}]);
  } finally {
    await reader.close();
  }
});

// ---------------------------------------------------------------- fuzz

test('challenge and Authorization parsers (fuzz): any header gives a well-formed value or undefined', () => {
  const token = fc.constantFrom(
    'realm',
    'nonce',
    'algorithm',
    'qop',
    'nc',
    'cnonce',
    'uri',
    'response',
    'username',
    'stale',
    'opaque',
    'x',
  );
  const value = fc.oneof(
    printable(30),
    fc.constantFrom('MD5', 'SHA-256', 'auth', '00000001', 'true', '"', '\\'),
  );
  const param = fc.tuple(token, value, fc.boolean()).map(([k, v, q]) => (q ? `${k}="${v}"` : `${k}=${v}`));
  const header = fc.oneof(
    printable(120),
    fc
      .tuple(
        fc.constantFrom('Digest', 'digest', 'Basic', ''),
        fc.array(param, { maxLength: 12 }),
        fc.constantFrom(', ', ',', ' '),
      )
      .map(([s, ps, sep]) => `${s} ${ps.join(sep)}`),
  );
  let parsed = 0;
  fc.assert(
    fc.property(header, (h) => {
      const c = parseChallenge(h);
      if (c) {
        parsed++;
        assert.ok(c.algorithm === 'MD5' || c.algorithm === 'SHA-256');
        assert.equal(typeof c.nonce, 'string');
      }
      const a = parseAuthorization(h);
      if (a) {
        assert.ok(a.qop === undefined || /^[0-9a-fA-F]{8}$/.test(a.nc ?? ''));
        for (const k of ['username', 'realm', 'nonce', 'uri', 'response'] as const)
          assert.equal(typeof a[k], 'string');
      }
      const v = createDigestVerifier(creds);
      assert.ok(['missing', 'wrong', 'stale', 'replay', 'ok'].includes(v.check('DESCRIBE', 'rtsp://h/a', h)));
    }),
    runs(5000),
  );
  assert.ok(parsed > 100, `parsed ${parsed}`);
});

test('Authorization (fuzz): format then parse gives the same parameters, quotes and backslashes included', () => {
  const arb: fc.Arbitrary<AuthorizationParams> = fc
    .record({
      username: printable(20),
      realm: printable(20),
      nonce: printable(30),
      uri: printable(40),
      response: fc.stringMatching(/^[0-9a-f]{32,64}$/),
      algorithm: fc.constantFrom('MD5' as const, 'SHA-256' as const),
      withQop: fc.boolean(),
      nc: fc.stringMatching(/^[0-9a-f]{8}$/),
      cnonce: fc.stringMatching(/^[0-9a-f]{8,16}$/),
    })
    .map(({ withQop, nc, cnonce, ...a }) => (withQop ? { ...a, qop: 'auth' as const, nc, cnonce } : a));
  fc.assert(
    fc.property(arb, (a) => {
      assert.deepEqual(parseAuthorization(formatAuthorization(a)), a);
    }),
    runs(3000),
  );
});
