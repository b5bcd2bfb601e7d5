// RTSP responses (RFC 2326 7): the incremental parser for the client side (responses and
// interleaved frames on one byte stream, with the same properties as the request parser: never
// throws, fixed limits, a tagged union of events) and the writer for the server side.
import type { InterleavedFrame } from './interleaved.ts';
import { createMessageParser, type HeadResult, type MessageHead } from './message.ts';

export interface RtspResponse {
  status: number;
  reason: string;
  /** Lower-case names; a repeated header keeps the first value. */
  headers: Map<string, string>;
  /** Every header line in order (repeated WWW-Authenticate challenges). */
  fields: [string, string][];
  cseq: string | undefined;
  body: Buffer;
}

export type ResponseEvent =
  | { kind: 'response'; response: RtspResponse }
  | { kind: 'frame'; frame: InterleavedFrame }
  | { kind: 'error'; reason: string; cseq?: string };

export interface ResponseLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** Bytes of each interleaved frame handed out (default: whole frames; 12 for RTP headers only). */
  keepFrameBytes?: number;
}

export interface ResponseParser {
  push(chunk: Buffer): ResponseEvent[];
}

function responseHead(h: MessageHead): HeadResult<RtspResponse> {
  const m = /^RTSP\/1\.\d (\d{3})(?: (.*))?$/.exec(h.startLine);
  if (!m) return { error: 'bad status line' };
  return {
    ok: {
      status: Number(m[1]),
      reason: m[2] ?? '',
      headers: h.headers,
      fields: h.fields,
      cseq: h.cseq,
      body: Buffer.alloc(0),
    },
  };
}

export function createResponseParser(
  limits: ResponseLimits = { maxHeaderBytes: 16_384, maxBodyBytes: 49_152 },
): ResponseParser {
  return createMessageParser<RtspResponse, ResponseEvent>(
    { keepFrameBytes: Infinity, ...limits },
    false,
    responseHead,
    {
      message: (response, body) => {
        response.body = body;
        return { kind: 'response', response };
      },
      frame: (frame) => ({ kind: 'frame', frame }),
    },
  );
}

/** Values of a header that may repeat (RFC 7616 3.3: one WWW-Authenticate per challenge). */
export const headerValues = (r: Pick<RtspResponse, 'fields'>, name: string): string[] =>
  r.fields.filter(([k]) => k === name).map(([, v]) => v);

export const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  451: 'Parameter Not Understood',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export interface Response {
  status: number;
  headers?: [string, string][];
  body?: string;
  /** Close the connection after writing. */
  close?: boolean;
}

export function formatResponse(r: Response, cseq: string | undefined, server: string): string {
  const body = r.body ?? '';
  let s = `RTSP/1.0 ${r.status} ${REASONS[r.status] ?? 'Error'}\r\n`;
  if (cseq !== undefined) s += `CSeq: ${cseq}\r\n`;
  s += `Server: ${server}\r\n`;
  for (const [k, v] of r.headers ?? []) s += `${k}: ${v}\r\n`;
  if (r.close) s += 'Connection: close\r\n';
  if (body.length > 0 || r.status === 200) s += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${s}\r\n${body}`;
}
