// RTSP requests (RFC 2326 6): the incremental parser for the server side (never throws: every
// input yields requests, skipped interleaved frames, or one terminal error; memory is bounded by
// the header and body limits; client frames such as RTCP receiver reports are skipped without
// buffering) and the writer for the client side.
import { createMessageParser, type HeadResult, type MessageHead } from './message.ts';

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

function requestHead(h: MessageHead): HeadResult<RtspRequest> {
  const parts = h.startLine.split(' ');
  const withSeq = h.cseq !== undefined ? { cseq: h.cseq } : {};
  if (parts.length !== 3) return { error: 'bad request line', ...withSeq };
  const [method, uri, version] = parts as [string, string, string];
  if (!/^[A-Z_]{1,32}$/.test(method)) return { error: 'bad method', ...withSeq };
  if (!/^RTSP\/1\.\d$/.test(version)) return { error: 'bad version', ...withSeq };
  if (uri.length === 0 || /[\x00-\x20\x7f]/.test(uri)) return { error: 'bad uri', ...withSeq };
  if (h.cseq === undefined) return { error: 'missing or bad CSeq' };
  return { ok: { method, uri, version, headers: h.headers, cseq: h.cseq, body: Buffer.alloc(0) } };
}

export function createRequestParser(
  limits: ParserLimits = { maxHeaderBytes: 8192, maxBodyBytes: 8192 },
): RequestParser {
  return createMessageParser<RtspRequest, ParseEvent>({ ...limits, keepFrameBytes: 0 }, true, requestHead, {
    message: (request, body) => {
      request.body = body;
      return { kind: 'request', request };
    },
    frame: (f) => ({ kind: 'interleaved', channel: f.channel, length: f.length }),
  });
}

/** A request's bytes (the client side): request line, CSeq, then the given headers. */
export function formatRequest(
  method: string,
  uri: string,
  cseq: number,
  headers: readonly (readonly [string, string])[],
): string {
  let s = `${method} ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\n`;
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}
