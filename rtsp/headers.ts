// Small RTSP helpers: status lines, responses, camera URLs, Transport headers (RFC 2326 7, 12.39).

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

export const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

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

export interface CameraUrl {
  cameraId: string;
  /** What follows the camera id: '' for the aggregate, e.g. 'trackID=0' for the track. */
  rest: string;
  /** rtsp://host[:port]/cam/<id>/ as the client wrote it, for Content-Base and RTP-Info. */
  base: string;
}

const CAM_PATH = /^\/cam\/([A-Za-z0-9_.-]{1,64})(?:\/(.*))?$/;

/** Accepts `rtsp://host[:port]/cam/<id>[/<track>]` or a bare path; query strings are ignored. */
export function parseCameraUrl(uri: string, fallbackHost: string): CameraUrl | undefined {
  let authority = fallbackHost;
  let path = uri;
  const abs = /^rtsps?:\/\/([^/?#]*)(.*)$/i.exec(uri);
  if (abs) {
    authority = abs[1]!.replace(/^[^@]*@/, ''); // never echo credentials
    path = abs[2]!;
  }
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  const m = CAM_PATH.exec(path);
  if (!m) return undefined;
  const cameraId = m[1]!;
  return { cameraId, rest: (m[2] ?? '').replace(/\/+$/, ''), base: `rtsp://${authority}/cam/${cameraId}/` };
}

export interface TransportChoice {
  interleaved: [number, number] | undefined;
}

/** Picks the first TCP interleaved spec from a Transport header; undefined when none is offered. */
export function chooseTransport(header: string | undefined): TransportChoice | undefined {
  if (!header) return undefined;
  for (const spec of header.split(',')) {
    const params = spec
      .trim()
      .split(';')
      .map((p) => p.trim());
    if ((params[0] ?? '').toUpperCase() !== 'RTP/AVP/TCP') continue;
    const il = params.find((p) => p.toLowerCase().startsWith('interleaved='));
    if (!il) return { interleaved: undefined };
    const m = /^interleaved=(\d{1,3})(?:-(\d{1,3}))?$/i.exec(il);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a + 1 : Number(m[2]);
    if (a > 255 || b > 255) return undefined;
    return { interleaved: [a, b] };
  }
  return undefined;
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
