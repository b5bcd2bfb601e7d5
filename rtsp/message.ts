// The part of RTSP message parsing that requests and responses share (RFC 2326 4, 6, 7, 10.12):
// messages and interleaved frames on one byte stream, header lines, Content-Length, limits.
// Never throws: every input yields messages, frames, or one terminal error, after which the
// parser ignores its input. Memory is bounded by the header and body limits and the frame reader.
import { createFrameReader, INTERLEAVED_MAGIC, type InterleavedFrame } from './interleaved.ts';

export interface MessageLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** Bytes of each interleaved frame handed out (0: skipped, Infinity: whole). */
  keepFrameBytes?: number;
}

export interface MessageHead {
  startLine: string;
  /** Lower-case names; a repeated header keeps the first value. */
  headers: Map<string, string>;
  /** Every header line in order, names lower-cased (repeated WWW-Authenticate, for one). */
  fields: [string, string][];
  cseq: string | undefined;
}

export type HeadResult<M> = { ok: M } | { error: string; cseq?: string };

export type MessageError = { kind: 'error'; reason: string; cseq?: string };

/** How the parser's findings become the caller's events (no second pass over them). */
export interface MessageEvents<M, E> {
  message(message: M, body: Buffer): E;
  frame(frame: InterleavedFrame): E;
}

const TOKEN = /^[A-Za-z_-][A-Za-z0-9_.-]*$/;
const EMPTY = Buffer.alloc(0);

/**
 * Splits a head into start line and header fields. strict: a line without a colon or a bad name
 * is an error (the server); otherwise it is skipped (the client: cameras write odd headers).
 */
export function parseHead(head: string, strict: boolean): MessageHead | { error: string } {
  const lines = head.split(/\r?\n/);
  const headers = new Map<string, string>();
  const fields: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (colon <= 0 || !TOKEN.test(name)) {
      if (strict) return { error: colon <= 0 ? 'bad header line' : 'bad header name' };
      continue;
    }
    const value = line.slice(colon + 1).trim();
    fields.push([name, value]);
    if (!headers.has(name)) headers.set(name, value);
  }
  const cseq = headers.get('cseq');
  return {
    startLine: lines[0] ?? '',
    headers,
    fields,
    cseq: cseq !== undefined && /^\d{1,10}$/.test(cseq) ? cseq : undefined,
  };
}

export interface MessageParser<E> {
  push(chunk: Buffer): (E | MessageError)[];
}

/** `build` checks a parsed head and makes the message (request or response) from it. */
export function createMessageParser<M, E>(
  limits: MessageLimits,
  strictHeaders: boolean,
  build: (head: MessageHead) => HeadResult<M>,
  events: MessageEvents<M, E>,
): MessageParser<E> {
  let buf: Buffer = EMPTY;
  let failed = false;
  const frames = createFrameReader(limits.keepFrameBytes ?? 0);

  function fail(reason: string, cseq?: string): MessageError {
    failed = true;
    buf = EMPTY;
    return cseq === undefined ? { kind: 'error', reason } : { kind: 'error', reason, cseq };
  }

  /** One message from the start of `buf`: the event, or undefined when more bytes are needed. */
  function message(): E | MessageError | undefined {
    let end = buf.indexOf('\r\n\r\n');
    let sep = 4;
    const lf = buf.indexOf('\n\n');
    if (lf >= 0 && (end < 0 || lf < end)) {
      end = lf;
      sep = 2;
    }
    if (end < 0) return buf.length > limits.maxHeaderBytes ? fail('header too large') : undefined;
    if (end > limits.maxHeaderBytes) return fail('header too large');
    const head = parseHead(buf.subarray(0, end).toString('latin1'), strictHeaders);
    if ('error' in head) return fail(head.error);
    const built = build(head);
    if ('error' in built) return fail(built.error, built.cseq);
    const cl = head.headers.get('content-length');
    let bodyLen = 0;
    if (cl !== undefined) {
      if (!/^\d{1,9}$/.test(cl)) return fail('bad Content-Length', head.cseq);
      bodyLen = Number(cl);
      if (bodyLen > limits.maxBodyBytes) return fail('body too large', head.cseq);
    }
    if (buf.length < end + sep + bodyLen) return undefined;
    const body = Buffer.from(buf.subarray(end + sep, end + sep + bodyLen));
    buf = buf.subarray(end + sep + bodyLen);
    return events.message(built.ok, body);
  }

  return {
    push(chunk) {
      const out: (E | MessageError)[] = [];
      if (failed) return out;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      // An offset, not a slice per frame: this loop runs for every RTP packet of a stream.
      let off = 0;
      while (off < buf.length && !failed) {
        // A frame in progress takes the bytes first (it only starts at a message boundary).
        if (frames.busy() || buf[off] === INTERLEAVED_MAGIC) {
          off = frames.read(buf, off);
          const frame = frames.take();
          if (frame) out.push(events.frame(frame));
          continue;
        }
        // Tolerate blank lines between messages (a bare CRLF keep-alive).
        if (buf[off] === 0x0d || buf[off] === 0x0a) {
          off++;
          continue;
        }
        buf = buf.subarray(off);
        off = 0;
        const ev = message();
        if (!ev) break;
        out.push(ev);
      }
      buf = off >= buf.length ? EMPTY : buf.subarray(off);
      // Keep no reference to a large chunk for a small remainder.
      if (buf.length > 0 && buf.buffer.byteLength > 4 * buf.length + 1024) buf = Buffer.from(buf);
      return out;
    },
  };
}
