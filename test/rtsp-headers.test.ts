// rtsp/headers.ts: Transport, Session and RTP-Info, written and read in one place. Unit cases,
// round trips, and the fuzz target: any value gives well-formed results, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  chooseTransport,
  formatRtpInfo,
  formatSession,
  formatTransport,
  parseRtpInfo,
  parseSession,
  parseTransport,
  type TransportSpec,
} from '../rtsp/headers.ts';
import { printable, runs } from './helpers/fuzz.ts';

test('Transport: specs in order, TCP interleaved chosen, bad ones skipped', () => {
  assert.deepEqual(
    parseTransport('RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;unicast;interleaved=4-5;mode="PLAY"'),
    [
      { protocol: 'RTP/AVP', unicast: true, clientPort: [5000, 5001] },
      { protocol: 'RTP/AVP/TCP', unicast: true, interleaved: [4, 5], mode: 'PLAY' },
    ],
  );
  assert.deepEqual(chooseTransport('RTP/AVP/TCP;interleaved=999-1000'), undefined);
  assert.deepEqual(chooseTransport('RTP/AVP/TCP;interleaved=2'), { interleaved: [2, 3] });
  assert.equal(
    formatTransport({
      protocol: 'RTP/AVP/TCP',
      unicast: true,
      interleaved: [0, 1],
      ssrc: '0000ABCD',
      mode: 'PLAY',
    }),
    'RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=0000ABCD;mode="PLAY"',
  );
});

test('Session and RTP-Info: parse and format', () => {
  assert.deepEqual(parseSession('12345678;timeout=30'), { id: '12345678', timeoutS: 30 });
  assert.deepEqual(parseSession(' abc '), { id: 'abc' });
  assert.equal(parseSession(''), undefined);
  assert.equal(parseSession('a b'), undefined);
  assert.equal(formatSession({ id: 'x1', timeoutS: 60 }), 'x1;timeout=60');
  assert.deepEqual(
    parseRtpInfo('url=rtsp://h/a/trackID=0;seq=17;rtptime=4294967295,url=rtsp://h/a/t1;seq=99999'),
    [{ url: 'rtsp://h/a/trackID=0', seq: 17, rtptime: 4294967295 }, { url: 'rtsp://h/a/t1' }],
  );
});

const specArb: fc.Arbitrary<TransportSpec> = fc
  .record({
    protocol: fc.constantFrom('RTP/AVP', 'RTP/AVP/TCP', 'RTP/AVP/UDP'),
    unicast: fc.boolean(),
    interleaved: fc.option(fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 })), { nil: undefined }),
    clientPort: fc.option(fc.tuple(fc.nat({ max: 65535 }), fc.nat({ max: 65535 })), { nil: undefined }),
    ssrc: fc.option(fc.stringMatching(/^[0-9A-F]{8}$/), { nil: undefined }),
    mode: fc.option(fc.constantFrom('PLAY', 'RECORD'), { nil: undefined }),
  })
  .map(
    (s) =>
      Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as TransportSpec,
  );

test('headers (property): format then parse gives the same values', () => {
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 1, maxLength: 4 }), (specs) => {
      assert.deepEqual(parseTransport(specs.map(formatTransport).join(',')), specs);
    }),
    runs(2000),
  );
  fc.assert(
    fc.property(
      fc.stringMatching(/^[A-Za-z0-9$_.+-]{1,40}$/),
      fc.option(fc.nat({ max: 999_999 }), { nil: undefined }),
      (id, timeoutS) => {
        const s = timeoutS === undefined ? { id } : { id, timeoutS };
        assert.deepEqual(parseSession(formatSession(s)), s);
      },
    ),
    runs(2000),
  );
  const info = fc
    .record({
      url: fc.webUrl().filter((u) => !/[,;]/.test(u)),
      seq: fc.nat({ max: 0xffff }),
      rtptime: fc.nat({ max: 0xffffffff }),
    })
    .map((e) => ({ ...e }));
  fc.assert(
    fc.property(fc.array(info, { minLength: 1, maxLength: 3 }), (es) => {
      assert.deepEqual(parseRtpInfo(formatRtpInfo(es)), es);
    }),
    runs(2000),
  );
});

test('headers (fuzz): any value gives well-formed results, never a throw', () => {
  const piece = fc.oneof(
    printable(30),
    fc.constantFrom(
      'RTP/AVP/TCP',
      'unicast',
      'interleaved=',
      'client_port=',
      'timeout=',
      'url=',
      'seq=',
      'rtptime=',
      ';',
      ',',
      '-',
      '=',
    ),
  );
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 20 }).map((p) => p.join('')),
      (h) => {
        for (const t of parseTransport(h)) {
          for (const p of [t.interleaved, t.clientPort])
            if (p) assert.ok(p.every((n) => Number.isInteger(n) && n >= 0 && n <= 65535));
          if (t.interleaved) assert.ok(t.interleaved.every((n) => n <= 255));
        }
        const c = chooseTransport(h);
        if (c?.interleaved) assert.ok(c.interleaved[0] <= 255);
        const s = parseSession(h);
        if (s) assert.ok(s.id.length > 0 && !/[;\s]/.test(s.id));
        for (const e of parseRtpInfo(h)) {
          assert.ok(e.url.length > 0);
          assert.ok(e.seq === undefined || (e.seq >= 0 && e.seq <= 0xffff));
          assert.ok(e.rtptime === undefined || (e.rtptime >= 0 && e.rtptime <= 0xffffffff));
        }
      },
    ),
    runs(5000),
  );
});
