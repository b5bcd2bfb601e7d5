// Thousands of malformed, truncated and interleaved-garbage requests against a live server:
// it must not crash, must keep answering, and its heap must stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { createLogger } from '../shared/log.ts';
import { rawExchange } from '../simulator/rtsp/load-reader.ts';
import { createRtspServer } from '../simulator/rtsp/server.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const log = createLogger({ level: 'silent', format: 'json' });
const clip = makeTestClip(join(tmpdir(), 'facegate-rtsp-test'), { seconds: 4, gopS: 1 });

const methods = [
  'OPTIONS',
  'DESCRIBE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'ANNOUNCE',
  'GET',
  'X',
];
const uris = [
  'rtsp://127.0.0.1/cam/000001',
  'rtsp://127.0.0.1/cam/000001/trackID=0',
  '*',
  '/cam/../../etc',
  'rtsp://u:p@h/cam/%00',
  'rtsp://h/cam/' + 'a'.repeat(70),
];
const headerArb = fc.oneof(
  fc.constantFrom(
    'Transport: RTP/AVP/TCP;unicast;interleaved=0-1',
    'Transport: RTP/AVP/TCP;interleaved=999-1000',
    'Transport: RTP/AVP;unicast;client_port=1-2',
    'Session: 12345678',
    'Content-Length: 5',
    'Content-Length: -1',
    'Content-Length: 99999999999',
    'Authorization: Digest username="a", nonce=',
    'Authorization: Digest ' + '"'.repeat(50),
    'Range: npt=abc-',
    'CSeq: 1',
    'CSeq: x',
    ': empty',
    'NoColon',
  ),
  fc.string({ maxLength: 60 }).map((s) => `X-${s}: v`),
);
const requestArb = fc
  .record({
    method: fc.constantFrom(...methods),
    uri: fc.oneof(fc.constantFrom(...uris), fc.string({ maxLength: 40 })),
    version: fc.constantFrom('RTSP/1.0', 'RTSP/1.0', 'RTSP/2.0', 'HTTP/1.1', ''),
    cseq: fc.option(fc.nat(), { nil: undefined }),
    headers: fc.array(headerArb, { maxLength: 6 }),
    body: fc.string({ maxLength: 20 }),
    eol: fc.constantFrom('\r\n', '\n', '\r'),
  })
  .map((r) => {
    const lines = [
      `${r.method} ${r.uri} ${r.version}`,
      ...(r.cseq === undefined ? [] : [`CSeq: ${r.cseq}`]),
      ...r.headers,
    ];
    return Buffer.from(lines.join(r.eol) + r.eol + r.eol + r.body, 'latin1');
  });
// Well-formed requests in odd orders exercise the handlers, not just the parser.
const validArb = fc
  .record({
    method: fc.constantFrom(...methods.slice(0, 8)),
    uri: fc.constantFrom(...uris.slice(0, 3)),
    cseq: fc.nat(),
    session: fc.constantFrom('', 'Session: 00000000\r\n'),
  })
  .map((r) =>
    Buffer.from(
      `${r.method} ${r.uri} RTSP/1.0\r\nCSeq: ${r.cseq}\r\n${r.session}Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
    ),
  );
const garbageArb = fc.oneof(
  validArb,
  requestArb,
  requestArb.chain((b) => fc.nat({ max: b.length }).map((n) => b.subarray(0, n))), // truncated
  fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
  fc
    .tuple(fc.nat({ max: 255 }), fc.nat({ max: 65535 }), fc.uint8Array({ maxLength: 200 }))
    .map(([ch, len, data]) =>
      Buffer.concat([Buffer.from([0x24, ch, len >> 8, len & 0xff]), Buffer.from(data)]),
    ), // interleaved
  fc.constant(Buffer.alloc(9000, 0x41)), // over the header limit
);
const sessionArb = fc.array(garbageArb, { minLength: 1, maxLength: 4 });

function fire(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => s.destroy(), 1000);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve();
    });
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
      s.end();
    });
  });
}

test('fuzz: malformed traffic never crashes the server, which keeps answering with a bounded heap', async () => {
  const server = createRtspServer(
    {
      host: '127.0.0.1',
      port: 0,
      clips: [clip],
      resolve: (id) => (id === '000001' ? { clip: 0, phaseS: 0 } : undefined),
    },
    { log },
  );
  const { port } = await server.listen();
  const samples = fc.sample(sessionArb, { numRuns: 3000, seed: 1234 });
  const round = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i += 50)
      await Promise.all(samples.slice(i, Math.min(i + 50, to)).map((s) => fire(port, s)));
  };
  try {
    await round(0, 500); // warm up: lazily created structures, JIT
    gc();
    const before = process.memoryUsage().heapUsed;
    await round(500, 3000);
    // A playing session that receives garbage over its interleaved channel keeps playing.
    const okSetup = `SETUP rtsp://127.0.0.1:${port}/cam/000001/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`;
    const mixed = await rawExchange(
      '127.0.0.1',
      port,
      Buffer.concat([
        Buffer.from(okSetup),
        Buffer.from([0x24, 1, 0, 4, 1, 2, 3, 4]),
        Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n'),
      ]),
      300,
    );
    assert.match(mixed, /CSeq: 1[\s\S]*CSeq: 2/);
    await new Promise((r) => setTimeout(r, 200));
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    assert.ok(growth < 4 * 1024 * 1024, `heap grew ${(growth / 1e6).toFixed(1)} MB`);
    const res = await rawExchange('127.0.0.1', port, 'OPTIONS * RTSP/1.0\r\nCSeq: 42\r\n\r\n', 300);
    assert.match(res, /^RTSP\/1\.0 200 OK\r\nCSeq: 42\r\n/);
    const st = server.stats();
    assert.ok(st.connections <= 1, `connections left open: ${st.connections}`);
    assert.equal(st.sessions, 0);
    // biome-ignore lint/suspicious/noUnnecessaryConditions: an index signature can miss (noUncheckedIndexedAccess; biome#11277)
    assert.ok((st.responses['400'] ?? 0) > 500, JSON.stringify(st.responses));
  } finally {
    await server.close();
  }
});
