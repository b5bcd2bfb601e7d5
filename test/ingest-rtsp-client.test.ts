// The ingest RTSP client against a scripted server: RFC 6184 depacketization (single NAL,
// STAP-A, FU-A), access unit boundaries (marker, timestamp change), gaps, keyframe validation,
// keep-alive and TEARDOWN; plus the pure SDP and keyframe helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import {
  buildKeyframe,
  parseSdp,
  parseTarget,
  startRtspClient,
  type CloseKind,
  type KeyframeUnit,
} from '../gateway/ingest/rtsp/rtsp-client.ts';

const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8]);
const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const sc = Buffer.from([0, 0, 0, 1]);
const annexB = (...nals: Buffer[]): Buffer => Buffer.concat(nals.flatMap((n) => [sc, n]));
/** A slice NAL: type, first_mb_in_slice == 0 (leading bit 1) or not, then filler. */
function slice(type: number, first: boolean, len: number, fill: number): Buffer {
  const b = Buffer.alloc(len, fill);
  b[0] = 0x60 | type;
  b[1] = first ? 0x88 : 0x48;
  return b;
}

test('parseSdp: media control relative to Content-Base, sprop-parameter-sets', () => {
  const sdp = [
    'v=0',
    'a=control:*',
    'm=audio 0 RTP/AVP 0',
    'a=control:track1',
    'm=video 0 RTP/AVP 96',
    `a=fmtp:96 packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=${SPS.toString('base64')},${PPS.toString('base64')}`,
    'a=control:trackID=0',
    '',
  ].join('\r\n');
  const i = parseSdp(sdp, 'rtsp://h/cam/1/');
  assert.equal(i.control, 'rtsp://h/cam/1/trackID=0');
  assert.deepEqual(i.sps, SPS);
  assert.deepEqual(i.pps, PPS);
  assert.equal(
    parseSdp('m=video 0 RTP/AVP 96\r\na=control:rtsp://x/y\r\n', 'rtsp://h/a').control,
    'rtsp://x/y',
  );
  assert.equal(parseSdp('m=video 0 RTP/AVP 96\r\n', 'rtsp://h/a/').control, 'rtsp://h/a');
});

test('parseTarget: credentials leave the URL; bad URLs are refused', () => {
  const t = parseTarget('rtsp://us%40er:p%3Ass@cam.local:8554/cam/1');
  assert.equal(t?.url, 'rtsp://cam.local:8554/cam/1');
  assert.deepEqual(t?.creds, { username: 'us@er', password: 'p:ss' });
  assert.equal(parseTarget('rtsp://[::1]/x')?.host, '::1');
  assert.equal(parseTarget('rtsp://h/x')?.port, 554);
  assert.equal(parseTarget('http://h/x'), undefined);
  assert.equal(parseTarget('not a url'), undefined);
});

test('buildKeyframe: exactly one IDR picture, parameter sets from the SDP when missing', () => {
  const idr = slice(5, true, 20, 1);
  const idr2 = slice(5, false, 20, 2);
  assert.deepEqual(buildKeyframe([SPS, PPS, idr, idr2], undefined, undefined), annexB(SPS, PPS, idr, idr2));
  assert.deepEqual(buildKeyframe([idr], SPS, PPS), annexB(SPS, PPS, idr));
  assert.equal(buildKeyframe([idr], undefined, PPS), undefined, 'no SPS anywhere');
  assert.equal(
    buildKeyframe([SPS, PPS, idr, slice(5, true, 20, 3)], undefined, undefined),
    undefined,
    'two pictures',
  );
  assert.equal(buildKeyframe([SPS, PPS, idr2], undefined, undefined), undefined, 'starts mid-picture');
  assert.equal(
    buildKeyframe([SPS, PPS, idr, slice(1, false, 20, 4)], undefined, undefined),
    undefined,
    'P slice inside',
  );
  assert.equal(buildKeyframe([SPS, PPS], undefined, undefined), undefined, 'no picture');
});

interface Script {
  port: number;
  methods: string[];
  close(): Promise<void>;
}

/** A scripted RTSP server: answers the setup, then sends `packets` (RTP payloads with ts/marker) after PLAY. */
async function scripted(
  packets: { payload: Buffer; ts: number; marker: boolean; skip?: boolean }[],
  opts: { timeoutS?: number; sprop?: boolean } = {},
): Promise<Script> {
  const methods: string[] = [];
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const req = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const method = req.split(' ')[0] ?? '';
        methods.push(method);
        const cseq = /CSeq: (\d+)/i.exec(req)?.[1] ?? '0';
        let extra = '';
        let body = '';
        if (method === 'DESCRIBE') {
          body = [
            'v=0',
            'm=video 0 RTP/AVP 96',
            `a=fmtp:96 packetization-mode=1${opts.sprop === false ? '' : `;sprop-parameter-sets=${SPS.toString('base64')},${PPS.toString('base64')}`}`,
            'a=control:trackID=0',
            '',
          ].join('\r\n');
          extra = `Content-Base: rtsp://127.0.0.1/cam/x/\r\nContent-Type: application/sdp\r\n`;
        }
        if (method === 'SETUP')
          extra = `Session: abc;timeout=${opts.timeoutS ?? 60}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n`;
        s.write(
          `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        if (method === 'PLAY') {
          let seq = 100;
          const out: Buffer[] = [];
          for (const p of packets) {
            const h = Buffer.alloc(16);
            h[0] = 0x24;
            h[1] = 0;
            h.writeUInt16BE(12 + p.payload.length, 2);
            h[4] = 0x80;
            h[5] = (p.marker ? 0x80 : 0) | 96;
            h.writeUInt16BE(seq++ & 0xffff, 6);
            h.writeUInt32BE(p.ts, 8);
            h.writeUInt32BE(0x1234, 12);
            if (!p.skip) out.push(h, p.payload);
          }
          // Dribble the bytes in odd-sized pieces: packets and headers span chunks.
          const all = Buffer.concat(out);
          for (let off = 0; off < all.length; off += 777) s.write(all.subarray(off, off + 777));
        }
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    methods,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

function fuA(nal: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 1; off < nal.length; off += size) {
    const end = Math.min(nal.length, off + size);
    out.push(
      Buffer.concat([
        Buffer.from([
          (nal[0]! & 0xe0) | 28,
          (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | (nal[0]! & 0x1f),
        ]),
        nal.subarray(off, end),
      ]),
    );
  }
  return out;
}
const stapA = (...nals: Buffer[]): Buffer =>
  Buffer.concat([
    Buffer.from([24]),
    ...nals.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n]),
  ]);

test('client: single NAL, STAP-A and FU-A reassembled; P pictures, gaps and two-picture units dropped; SPS/PPS from the SDP', async (t) => {
  const idrA = slice(5, true, 3000, 0xa1);
  const idrB = slice(5, true, 2500, 0xb2);
  const idrC = slice(5, true, 900, 0xc3);
  const idrD = slice(5, true, 1800, 0xd4);
  type P = { payload: Buffer; ts: number; marker: boolean; skip?: boolean };
  const pk: P[] = [];
  const push = (payloads: Buffer[], ts: number, marker = true, skipAt = -1): void =>
    payloads.forEach((payload, i) => {
      pk.push({
        payload,
        ts,
        marker: marker && i === payloads.length - 1,
        ...(i === skipAt ? { skip: true } : {}),
      });
    });
  push([stapA(SPS, PPS), ...fuA(idrA, 1000)], 0); // AU 1: STAP-A + FU-A
  push(fuA(slice(1, true, 2000, 0x11), 700), 9000); // P picture: skipped
  push([SPS, PPS, ...fuA(idrB, 1000)], 18000, true, 3); // a lost FU-A fragment: dropped
  push([idrC], 27000); // bare IDR: parameter sets from the SDP
  push([SPS, PPS, idrC, slice(5, true, 100, 0xee)], 36000); // two pictures: dropped
  push([SPS, PPS, ...fuA(idrD, 600)], 45000, false); // marker lost: ends at the next timestamp
  push([slice(1, true, 300, 0x22)], 54000);
  const srv = await scripted(pk, { timeoutS: 2 });
  t.after(() => srv.close());
  const got: KeyframeUnit[] = [];
  let closed: CloseKind | undefined;
  const c = startRtspClient(
    { url: `rtsp://127.0.0.1:${srv.port}/cam/x`, mediaTimeoutMs: 60_000 },
    { onKeyframe: (au) => got.push(au), onClose: (k) => (closed = k) },
  );
  const end = Date.now() + 5000;
  while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 3, `keyframes: ${got.map((g) => g.rtpTs).join(', ')}`);
  assert.deepEqual(got[0]?.data, annexB(SPS, PPS, idrA));
  assert.deepEqual(got[1]?.data, annexB(SPS, PPS, idrC));
  assert.deepEqual(got[2]?.data, annexB(SPS, PPS, idrD));
  assert.deepEqual(
    got.map((g) => g.rtpTs),
    [0, 27000, 45000],
  );
  const st = c.stats();
  assert.equal(st.seqGaps, 1);
  assert.equal(st.droppedUnits, 2, 'the gapped IDR and the two-picture unit');
  assert.deepEqual(srv.methods.slice(0, 4), ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY']);
  // timeout=2: a keep-alive within about a second.
  await new Promise((r) => setTimeout(r, 1300));
  assert.ok(srv.methods.includes('GET_PARAMETER'), srv.methods.join(','));
  await c.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, 'closed');
  assert.ok(srv.methods.includes('TEARDOWN'));
});

test('client: no media after PLAY ends it as stalled; garbage ends it as an error; neither throws', async () => {
  const srv = await scripted([]);
  const kinds: CloseKind[] = [];
  startRtspClient(
    { url: `rtsp://127.0.0.1:${srv.port}/cam/x`, mediaTimeoutMs: 600 },
    { onKeyframe: () => undefined, onClose: (k) => kinds.push(k) },
  );
  const bad = createServer((s) => {
    s.on('error', () => undefined);
    s.write('HTTP/1.1 200 OK\r\n\r\n');
  });
  await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
  startRtspClient(
    { url: `rtsp://127.0.0.1:${(bad.address() as { port: number }).port}/x` },
    { onKeyframe: () => undefined, onClose: (k) => kinds.push(k) },
  );
  startRtspClient({ url: 'rtsp://' }, { onKeyframe: () => undefined, onClose: (k) => kinds.push(k) });
  const end = Date.now() + 4000;
  while (kinds.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await srv.close();
  bad.close();
  assert.deepEqual([...kinds].sort(), ['error', 'stalled', 'unreachable'], kinds.join(','));
});
