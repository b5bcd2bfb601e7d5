// The load reader's side of one RTSP/TCP connection: responses and interleaved frames through
// rtsp/response.ts, keeping only each packet's 12-byte RTP header (the payload is skipped in place)
// to count packets, bytes, sequence gaps and how far arrival lags behind RTP time.
import { connect, type Socket } from 'node:net';
import { createResponseParser, type RtspResponse } from '../../rtsp/response.ts';
import { RTP_CLOCK, RTP_HEADER_BYTES } from '../../rtsp/rtp.ts';

export interface Reader {
  socket: Socket;
  state: 'setup' | 'playing' | 'failed' | 'closed';
  packets: number;
  bytes: number;
  frames: number;
  seqGaps: number;
  lost: number;
  expectSeq: number;
  lastTs: number;
  extTs: number;
  minOffset: number;
  maxLag: number;
  sessionId: string;
}

function onRtp(r: Reader, channel: number, length: number, head: Buffer): void {
  r.packets++;
  r.bytes += length + 4;
  if (channel !== 0 || length < RTP_HEADER_BYTES) return; // RTCP or junk: counted, not checked
  const seq = head.readUInt16BE(2);
  if (r.expectSeq >= 0 && seq !== r.expectSeq) {
    r.seqGaps++;
    r.lost += (seq - r.expectSeq) & 0xffff;
  }
  r.expectSeq = (seq + 1) & 0xffff;
  if ((head[1]! & 0x80) === 0) return;
  const ts = head.readUInt32BE(4);
  r.extTs = r.minOffset === Infinity ? 0 : r.extTs + ((ts - r.lastTs) | 0);
  r.lastTs = ts;
  r.frames++;
  const offset = Date.now() - r.extTs / (RTP_CLOCK / 1000);
  if (offset < r.minOffset) r.minOffset = offset;
  const lag = offset - r.minOffset;
  if (lag > r.maxLag) r.maxLag = lag;
}

/** Parses the server's byte stream; a bad response drops the connection and nothing more is read. */
export function createStreamParser(
  r: Reader,
  onResponse: (res: RtspResponse) => void,
): (chunk: Buffer) => void {
  const p = createResponseParser({
    maxHeaderBytes: 16_384,
    maxBodyBytes: 49_152,
    keepFrameBytes: RTP_HEADER_BYTES,
  });
  let dead = false;
  return (chunk) => {
    if (dead) return;
    for (const e of p.push(chunk)) {
      if (e.kind === 'frame') onRtp(r, e.frame.channel, e.frame.length, e.frame.data);
      else if (e.kind === 'response') onResponse(e.response);
      else {
        dead = true;
        r.socket.destroy();
        return;
      }
      if (dead) return;
    }
  };
}

/** Sends raw bytes on a fresh connection and collects what comes back until close or timeout. */
export function rawExchange(
  host: string,
  port: number,
  data: string | Buffer,
  timeoutMs = 2000,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', done);
    socket.on('close', done);
  });
}
