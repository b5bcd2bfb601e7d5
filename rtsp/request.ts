// Incremental RTSP request parser (RFC 2326 6). Never throws: every input yields requests,
// skipped interleaved frames, or one terminal error. Memory is bounded by the header and body
// limits; interleaved frames from clients (RTCP receiver reports) are skipped without buffering.

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  /** Lower-case names; a repeated header keeps the first value. */
  headers: Map<string, string>;
  cseq: string | undefined;
  body: Buffer;
}

export type ParseEvent =
  | { kind: 'request'; request: RtspRequest }
  | { kind: 'interleaved'; channel: number; length: number }
  | { kind: 'error'; reason: string; cseq?: string };

export interface ParserLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export interface RequestParser {
  push(chunk: Buffer): ParseEvent[];
}

const TOKEN = /^[A-Za-z_-][A-Za-z0-9_.-]*$/;

export function createRequestParser(
  limits: ParserLimits = { maxHeaderBytes: 8192, maxBodyBytes: 8192 },
): RequestParser {
  let buf: Buffer = Buffer.alloc(0);
  let skip = 0; // bytes of an interleaved frame still to drop
  let failed = false;

  function parseHead(head: string): RtspRequest | { error: string; cseq?: string } {
    const lines = head.split(/\r?\n/);
    const parts = (lines[0] ?? '').split(' ');
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) return { error: 'bad header line' };
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!TOKEN.test(name)) return { error: 'bad header name' };
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
    }
    const cseq = headers.get('cseq');
    const withSeq = cseq !== undefined && /^\d{1,10}$/.test(cseq) ? { cseq } : {};
    if (parts.length !== 3) return { error: 'bad request line', ...withSeq };
    const [method, uri, version] = parts as [string, string, string];
    if (!/^[A-Z_]{1,32}$/.test(method)) return { error: 'bad method', ...withSeq };
    if (!/^RTSP\/1\.\d$/.test(version)) return { error: 'bad version', ...withSeq };
    if (uri.length === 0 || /[\x00-\x20\x7f]/.test(uri)) return { error: 'bad uri', ...withSeq };
    if (!('cseq' in withSeq)) return { error: 'missing or bad CSeq' };
    return { method, uri, version, headers, cseq, body: Buffer.alloc(0) };
  }

  function fail(reason: string, cseq?: string): ParseEvent {
    failed = true;
    buf = Buffer.alloc(0);
    return cseq === undefined ? { kind: 'error', reason } : { kind: 'error', reason, cseq };
  }

  return {
    push(chunk) {
      const out: ParseEvent[] = [];
      if (failed) return out;
      let data = chunk;
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
      }
      buf = buf.length === 0 ? data : Buffer.concat([buf, data]);
      while (buf.length > 0 && !failed) {
        if (buf[0] === 0x24) {
          // RFC 2326 10.12: '$', channel, 16-bit length, data.
          if (buf.length < 4) break;
          const channel = buf[1]!;
          const length = buf.readUInt16BE(2);
          out.push({ kind: 'interleaved', channel, length });
          const have = buf.length - 4;
          if (have >= length) {
            buf = buf.subarray(4 + length);
          } else {
            skip = length - have;
            buf = Buffer.alloc(0);
          }
          continue;
        }
        // Tolerate blank lines between requests (some clients send a bare CRLF keep-alive).
        if (buf[0] === 0x0d || buf[0] === 0x0a) {
          buf = buf.subarray(1);
          continue;
        }
        let end = buf.indexOf('\r\n\r\n');
        let sep = 4;
        const lf = buf.indexOf('\n\n');
        if (lf >= 0 && (end < 0 || lf < end)) {
          end = lf;
          sep = 2;
        }
        if (end < 0) {
          if (buf.length > limits.maxHeaderBytes) out.push(fail('header too large'));
          break;
        }
        if (end > limits.maxHeaderBytes) {
          out.push(fail('header too large'));
          break;
        }
        const head = buf.subarray(0, end).toString('latin1');
        const parsed = parseHead(head);
        if ('error' in parsed) {
          out.push(fail(parsed.error, parsed.cseq));
          break;
        }
        const cl = parsed.headers.get('content-length');
        let bodyLen = 0;
        if (cl !== undefined) {
          if (!/^\d{1,9}$/.test(cl)) {
            out.push(fail('bad Content-Length', parsed.cseq));
            break;
          }
          bodyLen = Number(cl);
          if (bodyLen > limits.maxBodyBytes) {
            out.push(fail('body too large', parsed.cseq));
            break;
          }
        }
        if (buf.length < end + sep + bodyLen) break;
        parsed.body = Buffer.from(buf.subarray(end + sep, end + sep + bodyLen));
        buf = buf.subarray(end + sep + bodyLen);
        out.push({ kind: 'request', request: parsed });
      }
      // Keep no reference to a large chunk for a small remainder.
      if (buf.length > 0 && buf.buffer.byteLength > 4 * buf.length + 1024) buf = Buffer.from(buf);
      return out;
    },
  };
}
