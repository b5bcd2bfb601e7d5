// Client side of an RTSP/TCP connection: splits the server's bytes into RTSP responses and
// interleaved frames (RFC 2326 10.12), reading only each packet's 16-byte prefix.
import { connect, type Socket } from 'node:net';

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

/** Parses the server's byte stream: RTSP responses and '$' frames, payloads skipped in place. */
export function createStreamParser(
  r: Reader,
  onResponse: (status: number, headers: Map<string, string>, body: string) => void,
): (chunk: Buffer) => void {
  const hdr = Buffer.alloc(16);
  let hdrLen = 0;
  let need = 4;
  let skip = 0;
  let text: Buffer | undefined;
  // Once the connection is dropped for a bad response, nothing more is parsed or buffered.
  let dead = false;
  const drop = (): void => {
    dead = true;
    text = undefined;
    r.socket.destroy();
  };
  const onRtp = (): void => {
    const len = hdr.readUInt16BE(2);
    r.packets++;
    r.bytes += len + 4;
    if (hdr[1] !== 0 || len < 12) return; // RTCP or junk: counted, not checked
    const seq = hdr.readUInt16BE(6);
    if (r.expectSeq >= 0 && seq !== r.expectSeq) {
      r.seqGaps++;
      r.lost += (seq - r.expectSeq) & 0xffff;
    }
    r.expectSeq = (seq + 1) & 0xffff;
    if ((hdr[5]! & 0x80) === 0) return;
    const ts = hdr.readUInt32BE(8);
    r.extTs = r.minOffset === Infinity ? 0 : r.extTs + ((ts - r.lastTs) | 0);
    r.lastTs = ts;
    r.frames++;
    const offset = Date.now() - r.extTs / 90;
    if (offset < r.minOffset) r.minOffset = offset;
    const lag = offset - r.minOffset;
    if (lag > r.maxLag) r.maxLag = lag;
  };
  const parse = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length && !dead) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      if (text !== undefined || (hdrLen === 0 && chunk[i] !== 0x24)) {
        text = text ? Buffer.concat([text, chunk.subarray(i)]) : Buffer.from(chunk.subarray(i));
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (text.length > 65536) drop();
          return;
        }
        const lines = text.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map<string, string>();
        for (const l of lines.slice(1)) {
          const c = l.indexOf(':');
          if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
        }
        // A negative length would re-parse the same bytes forever; a huge one would buffer without bound.
        const cl = headers.get('content-length') ?? '0';
        if (!/^\d{1,5}$/.test(cl) || end + 4 + Number(cl) > 65536) {
          drop();
          return;
        }
        const bodyLen = Number(cl);
        if (text.length < end + 4 + bodyLen) return;
        const body = text.subarray(end + 4, end + 4 + bodyLen).toString('latin1');
        const rest = text.subarray(end + 4 + bodyLen);
        text = undefined;
        onResponse(Number(/^RTSP\/1\.\d (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0), headers, body);
        if (rest.length > 0) parse(rest);
        return;
      }
      const n = Math.min(need - hdrLen, chunk.length - i);
      chunk.copy(hdr, hdrLen, i, i + n);
      hdrLen += n;
      i += n;
      if (hdrLen === 4) need = 4 + Math.min(12, hdr.readUInt16BE(2));
      if (hdrLen < need) continue;
      onRtp();
      skip = hdr.readUInt16BE(2) - (need - 4);
      hdrLen = 0;
      need = 4;
    }
  };
  return parse;
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
