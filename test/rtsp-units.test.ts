import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { makeTestClip } from '../bench/clip-fixture.ts';
import { nalType, parseAnnexB, splitAnnexB, NAL_IDR, NAL_PPS, NAL_SPS } from '../rtsp/h264.ts';
import { parseRtpHeader, writePrefix } from '../rtsp/rtp.ts';
import { createH264Depacketizer, packetizeUnit } from '../rtsp/rtph264.ts';
import { unitNals } from './helpers/rtp.ts';
import { clipFromBuffer } from '../simulator/rtsp/clip.ts';
import { createRequestParser } from '../rtsp/request.ts';
import { digestAuthorization, digestResponse, parseAuthParams } from '../rtsp/digest.ts';
import { createDigestVerifier } from '../rtsp/digest-server.ts';
import { chooseTransport } from '../rtsp/headers.ts';
import { parseCameraUrl } from '../simulator/rtsp/camera-url.ts';
import { createFaultTable, flapDown, lastDisconnectAt } from '../simulator/rtsp/faults.ts';
import { frameAt, nextIdrFrame } from '../simulator/rtsp/session.ts';

const clip = makeTestClip(join(tmpdir(), 'facegate-rtsp-test'), { seconds: 4, gopS: 1 });
const data = readFileSync(clip.file);

test('h264: access units, IDR every GOP, SPS/PPS kept aside', () => {
  const p = parseAnnexB(data);
  assert.equal(p.units.length, 40);
  assert.equal(nalType(p.sps), NAL_SPS);
  assert.equal(nalType(p.pps), NAL_PPS);
  const idrs = p.units.map((u, i) => (u.idr ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(idrs, [0, 10, 20, 30]);
  for (const u of p.units) for (const n of u.nals) assert.ok(![NAL_SPS, NAL_PPS].includes(nalType(n)));
});

test('h264: start codes of 3 and 4 bytes, trailing zeros trimmed', () => {
  const b = Buffer.from([0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 0x88, 9, 0]);
  assert.deepEqual(
    splitAnnexB(b).map((n) => [...n]),
    [
      [0x67, 1, 2],
      [0x68, 3],
      [0x65, 0x88, 9],
    ],
  );
});

test('rtp: FU-A round trip restores every NAL; marker only on the last packet', () => {
  const p = parseAnnexB(data);
  for (const maxPayload of [100, 1200]) {
    for (const au of p.units) {
      const f = packetizeUnit(au, p.sps, p.pps, maxPayload);
      for (const pl of f.payloads) assert.ok(pl.length <= maxPayload);
      const nals = unitNals(createH264Depacketizer(), f.payloads);
      const want = au.idr ? [p.sps, p.pps, ...au.nals] : au.nals;
      assert.equal(nals.length, want.length);
      nals.forEach((n, i) => {
        assert.ok(n.equals(want[i]!));
      });
    }
  }
  const frame = packetizeUnit(p.units[0]!, p.sps, p.pps);
  assert.equal(nalType(frame.payloads[0]!), NAL_SPS);
  assert.equal(nalType(frame.payloads[1]!), NAL_PPS);
  assert.ok(frame.payloads.length > 3, 'the IDR is fragmented');
  assert.equal(
    p.units[0]!.nals.some((n) => nalType(n) === NAL_IDR),
    true,
  );
});

test('rtp: FU-A round trip on arbitrary NALs (property)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2, maxLength: 5000 }),
      fc.integer({ min: 3, max: 1500 }),
      (bytes, max) => {
        const nal = Buffer.from(bytes);
        nal[0] = (nal[0]! & 0xe0) | 1;
        const f = packetizeUnit({ nals: [nal], idr: false }, Buffer.alloc(0), Buffer.alloc(0), max);
        const out = unitNals(createH264Depacketizer(), f.payloads);
        return out.length === 1 && out[0]!.equals(nal);
      },
    ),
    { numRuns: 300 },
  );
});

test('rtp: prefix is an interleaved frame holding a valid RTP header', () => {
  const b = Buffer.alloc(16);
  writePrefix(b, 0, 2, 1000, true, 65535, 0xfffffff0, 0xdeadbeef);
  assert.equal(b[0], 0x24);
  assert.equal(b[1], 2);
  assert.equal(b.readUInt16BE(2), 1012);
  const h = parseRtpHeader(b.subarray(4));
  assert.deepEqual(h, {
    marker: true,
    payloadType: 96,
    seq: 65535,
    ts: 0xfffffff0,
    ssrc: 0xdeadbeef,
    payloadOffset: 12,
  });
});

test('clip: nextIdr wraps to the first frame; camera time is wall clock', () => {
  const c = clipFromBuffer({ index: 0, width: 640, height: 360, fps: 10 }, data);
  assert.equal(c.nextIdr[0], 0);
  assert.equal(c.nextIdr[1], 10);
  assert.equal(c.nextIdr[39], 0);
  assert.match(c.profileLevelId, /^[0-9a-f]{6}$/);
  const s = { clip: c, phaseS: 1.5 };
  assert.equal(frameAt(s, 10_000, 0), 115);
  assert.equal(nextIdrFrame(s, 10_000, 0), 120);
  assert.equal(nextIdrFrame(s, 10_450, 0), 120);
  assert.equal(nextIdrFrame(s, 10_500, 0), 120);
  assert.equal(nextIdrFrame(s, 10_600, 0), 130);
});

test('request parser: pipelined, split, interleaved frames skipped, limits enforced', () => {
  const p = createRequestParser();
  const req = 'OPTIONS rtsp://h/cam/1 RTSP/1.0\r\nCSeq: 1\r\n\r\n';
  const body = 'SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nhello';
  const all = Buffer.concat([Buffer.from(req), Buffer.from([0x24, 1, 0, 3, 9, 9, 9]), Buffer.from(body)]);
  const evs = [];
  for (let i = 0; i < all.length; i += 3) evs.push(...p.push(all.subarray(i, i + 3)));
  assert.deepEqual(
    evs.map((e) => e.kind),
    ['request', 'interleaved', 'request'],
  );
  const last = evs[2];
  assert.ok(last?.kind === 'request');
  assert.equal(last.request.body.toString(), 'hello');
  assert.equal(last.request.headers.get('content-length'), '5');

  const big = createRequestParser({ maxHeaderBytes: 100, maxBodyBytes: 10 });
  assert.equal(big.push(Buffer.alloc(200, 0x41))[0]?.kind, 'error');
  const nocseq = createRequestParser().push(Buffer.from('OPTIONS * RTSP/1.0\r\n\r\n'));
  assert.equal(nocseq[0]?.kind, 'error');
  const http = createRequestParser().push(Buffer.from('GET / HTTP/1.1\r\nCSeq: 4\r\n\r\n'));
  assert.deepEqual(http[0], { kind: 'error', reason: 'bad version', cseq: '4' });
  const hugeBody = createRequestParser().push(
    Buffer.from('SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\n'),
  );
  assert.equal(hugeBody[0]?.kind, 'error');
});

test('request parser: garbage yields no invented requests; valid requests survive any cutting (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
      const p = createRequestParser();
      const evs = chunks.flatMap((c) => p.push(Buffer.from(c)));
      const text = Buffer.concat(chunks).toString('latin1');
      const requests = evs.filter((e) => e.kind === 'request').length;
      assert.ok(requests <= text.split('RTSP/1.0').length - 1, 'a request without a request line');
      for (const e of evs) assert.ok(['request', 'interleaved', 'error'].includes(e.kind), e.kind);
    }),
    { numRuns: 500 },
  );
  const method = fc.constantFrom('OPTIONS', 'DESCRIBE', 'PLAY', 'SET_PARAMETER');
  const msg = fc
    .tuple(method, fc.string({ unit: 'grapheme-ascii', maxLength: 20 }))
    .map(([m, raw]) => ({ method: m, body: raw.replace(/[\r\n]/g, '') }));
  const text = (m: { method: string; body: string }, cseq: number): string =>
    `${m.method} rtsp://h/cam/1 RTSP/1.0\r\nCSeq: ${cseq}\r\nContent-Length: ${Buffer.byteLength(m.body)}\r\n\r\n${m.body}`;
  fc.assert(
    fc.property(
      fc.array(msg, { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(400), { maxLength: 8 }),
      (msgs, cuts) => {
        const all = Buffer.from(msgs.map((m, i) => text(m, i + 1)).join(''));
        const at = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((x, y) => x - y);
        const p = createRequestParser();
        const evs = [];
        let from = 0;
        for (const c of [...at, all.length]) {
          evs.push(...p.push(all.subarray(from, c)));
          from = c;
        }
        assert.deepEqual(
          evs.map((e) => (e.kind === 'request' ? [e.request.method, e.request.body.toString()] : e.kind)),
          msgs.map((m) => [m.method, m.body]),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('urls and transports', () => {
  assert.deepEqual(parseCameraUrl('rtsp://u:p@10.0.0.1:8554/cam/000042/trackID=0?x=1', 'h:1'), {
    cameraId: '000042',
    rest: 'trackID=0',
    base: 'rtsp://10.0.0.1:8554/cam/000042/',
  });
  assert.equal(parseCameraUrl('/cam/7/', 'h:1')?.base, 'rtsp://h:1/cam/7/');
  assert.equal(parseCameraUrl('rtsp://h/other/7', 'h:1'), undefined);
  assert.deepEqual(
    chooseTransport('RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=4-5'),
    { interleaved: [4, 5] },
  );
  assert.deepEqual(chooseTransport('RTP/AVP/TCP;unicast'), { interleaved: undefined });
  assert.equal(chooseTransport('RTP/AVP;unicast;client_port=5000-5001'), undefined);
});

test('digest: RFC 2617 3.5 example, server round trip, wrong password, stale nonce', () => {
  // The worked example of RFC 2617 3.5 (qop=auth).
  assert.equal(
    digestResponse({
      username: 'Mufasa',
      password: 'Circle Of Life',
      realm: 'testrealm@host.com',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    }),
    '6629fae49393a05397450978507c4ef1',
  );
  let t = 1_000_000;
  const v = createDigestVerifier({ username: 'admin', password: 'secret' }, 'facegate', 60_000, () => t);
  const ch = v.challenge();
  assert.equal(parseAuthParams(ch)?.get('realm'), 'facegate');
  const ok = digestAuthorization({ username: 'admin', password: 'secret' }, ch, 'DESCRIBE', 'rtsp://h/cam/1');
  assert.equal(v.check('DESCRIBE', 'rtsp://h/cam/1', ok), 'ok');
  assert.equal(v.check('SETUP', 'rtsp://h/cam/1', ok), 'wrong', 'method is part of the hash');
  const bad = digestAuthorization({ username: 'admin', password: 'nope' }, ch, 'DESCRIBE', 'rtsp://h/cam/1');
  assert.equal(v.check('DESCRIBE', 'rtsp://h/cam/1', bad), 'wrong');
  assert.equal(v.check('DESCRIBE', 'rtsp://h/cam/1', undefined), 'missing');
  assert.equal(v.check('DESCRIBE', 'rtsp://h/cam/1', 'Basic YWRtaW46c2VjcmV0'), 'wrong');
  const forged = ok?.replace(/nonce="[^"]+"/, 'nonce="0000000000000000000000000000000000"');
  assert.equal(v.check('DESCRIBE', 'rtsp://h/cam/1', forged), 'wrong');
  t += 120_000;
  assert.equal(v.check('DESCRIBE', 'rtsp://h/cam/1', ok), 'stale');
});

test('faults: seeded fraction is stable; flap and disconnect timing', () => {
  const t = 0;
  const ft = createFaultTable(() => t);
  ft.setFraction({ kind: 'stall' }, 0.3, 42);
  const ids = Array.from({ length: 2000 }, (_, i) => String(i).padStart(6, '0'));
  const hit = ids.filter((id) => ft.get(id)?.fault.kind === 'stall');
  assert.ok(hit.length > 500 && hit.length < 700, `${hit.length}`);
  assert.deepEqual(
    ids.filter((id) => ft.get(id)),
    hit,
    'same choice on every lookup',
  );
  ft.set(hit[0]!, { kind: 'corrupt' });
  assert.equal(ft.get(hit[0]!)?.fault.kind, 'corrupt', 'a camera fault wins over the fraction');
  const flap = { fault: { kind: 'flap' as const, upS: 2, downS: 1 }, since: 0 };
  assert.deepEqual(
    [0, 999, 1000, 2999, 3000].map((x) => flapDown(flap, x)),
    [true, true, false, false, true],
  );
  const disc = { fault: { kind: 'disconnect' as const, everyS: 5 }, since: 1000 };
  assert.equal(lastDisconnectAt(disc, 1000), 1000);
  assert.equal(lastDisconnectAt(disc, 7000), 6000);
});
