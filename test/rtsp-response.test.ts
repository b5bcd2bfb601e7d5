// rtsp/response.ts and rtsp/interleaved.ts: the client side of the RTSP byte stream. Unit cases,
// then the fuzz target: any cutting gives the same events, garbage never throws, errors are
// terminal, limits hold, and nothing is invented (every frame starts at a '$' of the input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createFrameReader, encodeInterleaved } from '../rtsp/interleaved.ts';
import { formatRequest } from '../rtsp/request.ts';
import { createResponseParser, headerValues, type ResponseEvent } from '../rtsp/response.ts';
import { bytes, cut, printable, runs } from './helpers/fuzz.ts';

const resp = (status: number, headers: string[], body = ''): Buffer =>
  Buffer.from(
    `RTSP/1.0 ${status} X\r\n${headers.map((h) => `${h}\r\n`).join('')}${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n${body}`,
    'latin1',
  );

test('response parser: status, repeated headers, body, frames between responses', () => {
  const p = createResponseParser();
  const frame = encodeInterleaved(0, Buffer.from('rtp-bytes-here'));
  const evs = p.push(
    Buffer.concat([
      resp(401, ['CSeq: 3', 'WWW-Authenticate: Digest a=1', 'WWW-Authenticate: Digest b=2']),
      frame,
      resp(200, ['CSeq: 4', 'Content-Type: application/sdp'], 'v=0\r\n'),
    ]),
  );
  assert.deepEqual(
    evs.map((e) => e.kind),
    ['response', 'frame', 'response'],
  );
  const [a, f, b] = evs as [ResponseEvent, ResponseEvent, ResponseEvent];
  assert.ok(a.kind === 'response' && f.kind === 'frame' && b.kind === 'response');
  assert.equal(a.response.status, 401);
  assert.equal(a.response.cseq, '3');
  assert.deepEqual(headerValues(a.response, 'www-authenticate'), ['Digest a=1', 'Digest b=2']);
  assert.equal(a.response.headers.get('www-authenticate'), 'Digest a=1');
  assert.deepEqual([f.frame.channel, f.frame.length, f.frame.data.toString()], [0, 14, 'rtp-bytes-here']);
  assert.equal(b.response.body.toString(), 'v=0\r\n');
});

test('response parser: a bad status line, Content-Length or oversize header is one terminal error', () => {
  for (const [input, reason] of [
    ['HTTP/1.1 200 OK\r\n\r\n', 'bad status line'],
    ['RTSP/1.0 20 OK\r\n\r\n', 'bad status line'],
    ['RTSP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n', 'bad Content-Length'],
    ['RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n', 'body too large'],
  ] as const) {
    const p = createResponseParser();
    assert.deepEqual(p.push(Buffer.from(input)), [{ kind: 'error', reason }], input);
    assert.deepEqual(p.push(resp(200, ['CSeq: 1'])), [], 'nothing after the error');
  }
  const p = createResponseParser({ maxHeaderBytes: 1000, maxBodyBytes: 1000 });
  let total = 0;
  let err: ResponseEvent | undefined;
  while (!err && total < 100_000) {
    total += 100;
    err = p.push(Buffer.alloc(100, 0x41)).find((e) => e.kind === 'error');
  }
  assert.deepEqual(err, { kind: 'error', reason: 'header too large' });
  assert.ok(total <= 1100, `error after ${total} bytes`);
});

test('interleaved: whole frames, kept prefixes and skipped frames, however the bytes are cut', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ channel: fc.nat({ max: 255 }), data: bytes(3000) }), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.constantFrom(0, 12, Infinity),
      fc.array(fc.nat(), { maxLength: 10 }),
      (frames, keep, cuts) => {
        const r = createFrameReader(keep);
        const whole = Buffer.concat(frames.map((f) => encodeInterleaved(f.channel, f.data)));
        const got: { channel: number; length: number; data: Buffer }[] = [];
        for (const c of cut(whole, cuts)) {
          let off = 0;
          while (off < c.length) {
            const next = r.read(c, off);
            assert.ok(next > off, 'progress');
            off = next;
            const f = r.take();
            if (f) got.push({ ...f, data: Buffer.from(f.data) });
          }
        }
        assert.equal(r.busy(), false);
        assert.deepEqual(
          got,
          frames.map((f) => ({
            channel: f.channel,
            length: f.data.length,
            data: f.data.subarray(0, Math.min(keep, f.data.length)),
          })),
        );
      },
    ),
    runs(2000),
  );
});

type Item =
  | { kind: 'resp'; status: number; cseq: number; body: string }
  | { kind: 'frame'; channel: number; data: Buffer };
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  fc.record({
    kind: fc.constant('resp' as const),
    status: fc.integer({ min: 100, max: 599 }),
    cseq: fc.nat({ max: 1e6 }),
    body: printable(100),
  }),
  fc.record({ kind: fc.constant('frame' as const), channel: fc.nat({ max: 3 }), data: bytes(2000) }),
);
const serialize = (it: Item): Buffer =>
  it.kind === 'resp'
    ? resp(it.status, [`CSeq: ${it.cseq}`], it.body)
    : encodeInterleaved(it.channel, it.data);

test('response parser (fuzz): valid streams come out the same however the bytes are cut', () => {
  fc.assert(
    fc.property(
      fc.array(itemArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (items, cuts) => {
        const p = createResponseParser();
        const evs = cut(Buffer.concat(items.map(serialize)), cuts).flatMap((c) => p.push(c));
        assert.equal(evs.length, items.length);
        items.forEach((it, i) => {
          const e = evs[i]!;
          if (it.kind === 'frame') {
            assert.ok(e.kind === 'frame');
            assert.deepEqual([e.frame.channel, e.frame.data], [it.channel, it.data]);
          } else {
            assert.ok(e.kind === 'response');
            assert.deepEqual(
              [e.response.status, e.response.cseq, e.response.body.toString('latin1')],
              [it.status, String(it.cseq), it.body],
            );
          }
        });
      },
    ),
    runs(5000),
  );
});

test('response parser (fuzz): garbage never throws, errors are terminal, nothing is invented', () => {
  let errors = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          itemArb.map(serialize),
          bytes(300),
          printable(200).map((s) => Buffer.from(s)),
        ),
        {
          minLength: 1,
          maxLength: 10,
        },
      ),
      (chunks) => {
        const p = createResponseParser({ maxHeaderBytes: 2048, maxBodyBytes: 4096, keepFrameBytes: 12 });
        const evs = chunks.flatMap((c) => p.push(c));
        const firstError = evs.findIndex((e) => e.kind === 'error');
        if (firstError >= 0) {
          errors++;
          assert.equal(firstError, evs.length - 1, 'an error is the last event');
        }
        const all = Buffer.concat(chunks);
        let dollars = 0;
        for (const b of all) if (b === 0x24) dollars++;
        const frames = evs.filter((e) => e.kind === 'frame');
        const responses = evs.filter((e) => e.kind === 'response');
        assert.ok(frames.length <= dollars);
        assert.ok(responses.length <= all.toString('latin1').split('RTSP/1.').length - 1);
        for (const e of evs) {
          if (e.kind === 'frame') assert.ok(e.frame.data.length <= Math.min(12, e.frame.length));
          if (e.kind === 'response') {
            assert.ok(e.response.status >= 0 && e.response.status <= 999);
            assert.ok(e.response.body.length <= 4096);
          }
        }
      },
    ),
    runs(10_000),
  );
  assert.ok(errors > 1000, `errors: ${errors}`);
});

test('formatRequest: request line, CSeq, headers, blank line', () => {
  assert.equal(
    formatRequest('OPTIONS', 'rtsp://h/a', 7, [['User-Agent', 'x']]),
    'OPTIONS rtsp://h/a RTSP/1.0\r\nCSeq: 7\r\nUser-Agent: x\r\n\r\n',
  );
});
