// rtsp/client.ts, the state machine, against scripted servers on real sockets: the request flow
// (OPTIONS refused is skipped, the channel the server picked, Digest retry with nc going up,
// keep-alive, TEARDOWN), and a fuzz target: a server answering anything at all ends the client
// exactly once, with a known kind, within its timeouts, and never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { startClient, type ClientCloseKind } from '../rtsp/client.ts';
import { parseAuthorization } from '../rtsp/digest.ts';
import { createRequestParser, type RtspRequest } from '../rtsp/request.ts';
import { encodeInterleaved } from '../rtsp/interleaved.ts';
import { runs } from './helpers/fuzz.ts';

type Answer = (req: RtspRequest, n: number) => Buffer | string | undefined;

/** A server whose answer to the n-th request on a connection is answer(req, n); undefined: silence. */
async function serve(
  answer: Answer,
): Promise<{ port: number; requests: RtspRequest[]; close(): Promise<void> }> {
  const requests: RtspRequest[] = [];
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const p = createRequestParser();
    let n = 0;
    s.on('data', (d: Buffer) => {
      for (const e of p.push(d)) {
        if (e.kind !== 'request') continue;
        requests.push(e.request);
        const a = answer(e.request, n++);
        if (a === 'close') s.destroy();
        else if (a !== undefined && !s.destroyed) s.write(a);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

const ok = (req: RtspRequest, headers: string[] = [], body = ''): string =>
  `RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${body.length}\r\n\r\n${body}`;
const SDP = 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n';
const rtp = (seq: number): Buffer => {
  const b = Buffer.alloc(14);
  b[0] = 0x80;
  b[1] = 0x80 | 96;
  b.writeUInt16BE(seq, 2);
  b[12] = 0x65;
  return b;
};

test('client: OPTIONS refused is skipped; Digest SHA-256 with nc going up; RTP on the channel the server chose; TEARDOWN', async () => {
  const srv = await serve((req) => {
    if (req.method === 'OPTIONS') return `RTSP/1.0 501 Not Implemented\r\nCSeq: ${req.cseq}\r\n\r\n`;
    if (!req.headers.has('authorization'))
      return `RTSP/1.0 401 Unauthorized\r\nCSeq: ${req.cseq}\r\nWWW-Authenticate: Digest realm="r", nonce="abc", algorithm=MD5\r\nWWW-Authenticate: Digest realm="r", nonce="abc", algorithm=SHA-256, qop="auth"\r\n\r\n`;
    if (req.method === 'DESCRIBE') return ok(req, ['Content-Base: rtsp://127.0.0.1/cam/1/'], SDP);
    if (req.method === 'SETUP')
      return ok(req, ['Session: s1;timeout=30', 'Transport: RTP/AVP/TCP;unicast;interleaved=2-3']);
    if (req.method === 'PLAY')
      return Buffer.concat([
        Buffer.from(ok(req)),
        encodeInterleaved(0, rtp(1)),
        encodeInterleaved(2, rtp(7)),
      ]);
    return ok(req);
  });
  const seqs: number[] = [];
  const closed: ClientCloseKind[] = [];
  let playing = 0;
  const c = startClient(
    { url: `rtsp://u:p@127.0.0.1:${srv.port}/cam/1` },
    {
      onPlaying: (info) => {
        playing++;
        assert.equal(info.video?.codec, 'h264');
      },
      onRtp: (h) => seqs.push(h.seq),
      onClose: (k) => closed.push(k),
    },
  );
  for (let i = 0; i < 100 && seqs.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await c.close();
  await new Promise((r) => setTimeout(r, 50));
  await srv.close();
  assert.deepEqual([playing, seqs, closed], [1, [7], ['closed']]);
  const methods = srv.requests.map((r) => r.method);
  assert.deepEqual(methods, ['OPTIONS', 'DESCRIBE', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN']);
  const auths = srv.requests.slice(2).map((r) => parseAuthorization(r.headers.get('authorization') ?? ''));
  assert.deepEqual(
    auths.map((a) => [a?.algorithm, a?.nc]),
    [
      ['SHA-256', '00000001'],
      ['SHA-256', '00000002'],
      ['SHA-256', '00000003'],
      ['SHA-256', '00000004'],
    ],
  );
  assert.equal(srv.requests[3]?.uri, 'rtsp://127.0.0.1/cam/1/trackID=0');
  assert.equal(srv.requests[4]?.headers.get('session'), 's1');
});

test('client: keep-alive GET_PARAMETER while playing; a server that goes quiet is stalled', async () => {
  const srv = await serve((req) => {
    if (req.method === 'DESCRIBE') return ok(req, [], SDP);
    if (req.method === 'SETUP') return ok(req, ['Session: s2;timeout=2']);
    if (req.method === 'PLAY') return Buffer.concat([Buffer.from(ok(req)), encodeInterleaved(0, rtp(1))]);
    return ok(req);
  });
  const closed: [ClientCloseKind, string][] = [];
  startClient(
    { url: `rtsp://127.0.0.1:${srv.port}/cam/2`, mediaTimeoutMs: 1500, keepAliveMs: 300 },
    { onClose: (k, d) => closed.push([k, d]) },
  );
  for (let i = 0; i < 100 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  await srv.close();
  assert.deepEqual(closed, [['stalled', 'no media for 1500 ms']]);
  assert.ok(srv.requests.filter((r) => r.method === 'GET_PARAMETER').length >= 3);
});

// ---------------------------------------------------------------- fuzz

const statusArb = fc.constantFrom(200, 200, 200, 401, 404, 454, 461, 500);
const headerArb = fc.oneof(
  fc.constantFrom(
    'Session: abc;timeout=1',
    'Session: ;;',
    'Transport: RTP/AVP/TCP;interleaved=9-10',
    'Transport: garbage',
    'WWW-Authenticate: Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"',
    'WWW-Authenticate: Digest realm="r", nonce="n", stale=TRUE',
    'WWW-Authenticate: Basic realm="r"',
    'Content-Base: rtsp://127.0.0.1/x/',
    'Content-Base: not a url',
    'CSeq: 999',
  ),
  fc.string({ maxLength: 30 }).map((s) => `X-${s.replace(/[\r\n:]/g, '')}: v`),
);
const bodyArb = fc.oneof(
  fc.constant(''),
  fc.constant(SDP),
  fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e\r\n]/g, '')),
);
const answerArb = fc.oneof(
  fc.record({ status: statusArb, headers: fc.array(headerArb, { maxLength: 4 }), body: bodyArb }),
  fc.constantFrom('close', 'silence', 'garbage', 'frames'),
);

test('client (fuzz): whatever the server answers, the client ends exactly once with a known kind, never throws', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(answerArb, { minLength: 1, maxLength: 6 }), async (answers) => {
      const srv = await serve((req, n) => {
        const a = answers[Math.min(n, answers.length - 1)]!;
        if (a === 'close') return 'close';
        if (a === 'silence') return undefined;
        if (a === 'garbage') return Buffer.from('HTTP/1.1 200 OK\r\n\r\n$\x00\xff\xff');
        if (a === 'frames') return Buffer.concat([encodeInterleaved(0, rtp(n)), Buffer.from(ok(req))]);
        const cseq = a.headers.some((h) => h.startsWith('CSeq')) ? '' : `CSeq: ${req.cseq}\r\n`;
        return `RTSP/1.0 ${a.status} X\r\n${cseq}${a.headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(a.body)}\r\n\r\n${a.body}`;
      });
      const closed: ClientCloseKind[] = [];
      const c = startClient(
        { url: `rtsp://u:p@127.0.0.1:${srv.port}/cam/f`, setupTimeoutMs: 400, mediaTimeoutMs: 200 },
        { onRtp: () => undefined, onClose: (k) => closed.push(k) },
      );
      const t0 = Date.now();
      while (closed.length === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
      await c.close();
      await srv.close();
      assert.equal(closed.length, 1, `closed ${closed.join(',')}`);
      assert.ok(['unauthorized', 'unreachable', 'stalled', 'closed', 'error'].includes(closed[0]!));
    }),
    runs(100),
  );
});
