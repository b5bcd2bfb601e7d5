// An RTSP client (RFC 2326) over TCP interleaved transport, as a state machine over the parts of
// this folder: OPTIONS (optional for cameras), DESCRIBE (SDP), SETUP, PLAY; a 401 answered with
// Digest (SHA-256 or MD5, qop=auth when offered); GET_PARAMETER keep-alive at half the session
// timeout; TEARDOWN on close; setup and media timeouts. It hands out RTP packets of the media
// channel and ends exactly once with a reason. Nothing here throws out of a socket callback.
import { connect, type Socket } from 'node:net';
import type { InterleavedFrame } from './interleaved.ts';
import { createDigestClient, type Credentials, type DigestClient } from './digest.ts';
import { formatSession, formatTransport, parseSession, parseTransport } from './headers.ts';
import { formatRequest } from './request.ts';
import { createResponseParser, headerValues, type ResponseParser, type RtspResponse } from './response.ts';
import { parseRtpHeader, type RtpHeader } from './rtp.ts';
import { readSdp, resolveControl, type SessionDescription, type SdpVideo } from './sdp.ts';
import { parseTarget, type Target } from './url.ts';

export { parseTarget, type Target } from './url.ts';

export type ClientState = 'connecting' | 'OPTIONS' | 'DESCRIBE' | 'SETUP' | 'PLAY' | 'playing' | 'ended';
export type ClientCloseKind = 'unauthorized' | 'unreachable' | 'stalled' | 'closed' | 'error';

export interface ClientOptions {
  /** rtsp://[user:pass@]host[:port]/path; credentials are used only to answer a Digest challenge. */
  url: string;
  /** TCP connect + OPTIONS..PLAY must finish within this (default 10 s). */
  setupTimeoutMs?: number;
  /** No RTP packet for this long after PLAY: the stream is stalled (default 5 s; 0: never). */
  mediaTimeoutMs?: number;
  userAgent?: string;
  /** Credentials for Digest; default: those of the URL. */
  credentials?: Credentials;
  /** Start with OPTIONS (default true; a load client may go straight to DESCRIBE). */
  sendOptions?: boolean;
  /** Bytes of each interleaved frame handed out (default whole; 12: RTP headers only, payloads skipped). */
  keepFrameBytes?: number;
  /** GET_PARAMETER period (default half the session timeout). */
  keepAliveMs?: number;
}

export interface PlayInfo {
  description: SessionDescription;
  /** The first video media, if any: what was set up. */
  video: SdpVideo | undefined;
  /** Content-Base (else the URL), for resolving controls. */
  base: string;
}

export interface ClientEvents {
  onPlaying?(info: PlayInfo): void;
  /** One RTP packet of the media: its parsed header and the whole packet (a view, valid during the call). */
  onRtp?(h: RtpHeader, packet: Buffer): void;
  /** Every interleaved frame after PLAY, any channel, as kept (keepFrameBytes). */
  onFrame?(frame: InterleavedFrame): void;
  /** Called exactly once, also after close() (kind 'closed'). */
  onClose(kind: ClientCloseKind, detail: string): void;
}

export interface Client {
  state(): ClientState;
  /** TEARDOWN (best effort), then the socket is destroyed; bounded by ~200 ms. */
  close(): Promise<void>;
}

/** Mutable state of one connection, shared by the steps below. */
interface Conn {
  o: ClientOptions;
  ev: ClientEvents;
  target: Target;
  sock: Socket;
  state: ClientState;
  cseq: number;
  /** CSeq of the request whose answer drives the state machine; keep-alive answers are ignored. */
  awaiting: number;
  digest: DigestClient | undefined;
  authTries: number;
  sessionId: string;
  sessionTimeoutS: number;
  control: string;
  sessionUrl: string;
  channel: number;
  play: PlayInfo | undefined;
  /** Media since the watch last looked; it stamps lastMediaAt (no clock read per packet). */
  gotMedia: boolean;
  lastMediaAt: number;
  timers: NodeJS.Timeout[];
  closedByUser: boolean;
  creds: Credentials | undefined;
  parser: ResponseParser;
  ended: boolean;
}

function send(c: Conn, method: string, uri: string, extra: [string, string][] = []): number {
  const n = ++c.cseq;
  const headers: [string, string][] = [['User-Agent', c.o.userAgent ?? 'facegate']];
  const auth = c.digest?.authorization(method, uri);
  if (auth) headers.push(['Authorization', auth]);
  if (c.sessionId) headers.push(['Session', formatSession({ id: c.sessionId })]);
  headers.push(...extra);
  if (!c.sock.destroyed) c.sock.write(formatRequest(method, uri, n, headers));
  return n;
}

function step(c: Conn): void {
  const transport = formatTransport({ protocol: 'RTP/AVP/TCP', unicast: true, interleaved: [0, 1] });
  if (c.state === 'OPTIONS') c.awaiting = send(c, 'OPTIONS', c.target.url);
  else if (c.state === 'DESCRIBE')
    c.awaiting = send(c, 'DESCRIBE', c.target.url, [['Accept', 'application/sdp']]);
  else if (c.state === 'SETUP') c.awaiting = send(c, 'SETUP', c.control, [['Transport', transport]]);
  else if (c.state === 'PLAY') c.awaiting = send(c, 'PLAY', c.sessionUrl, [['Range', 'npt=0.000-']]);
}

/** The next state after a 200, or undefined when PLAY is done. */
function advance(c: Conn, res: RtspResponse): ClientState | undefined {
  if (c.state === 'OPTIONS') return 'DESCRIBE';
  if (c.state === 'DESCRIBE') {
    const base = res.headers.get('content-base') ?? res.headers.get('content-location') ?? `${c.target.url}/`;
    const description = readSdp(res.body.toString('latin1'));
    const video = description.video[0];
    c.control = resolveControl(video?.control ?? description.control, base);
    c.sessionUrl = base.replace(/\/$/, '');
    c.play = { description, video, base };
    return 'SETUP';
  }
  if (c.state === 'SETUP') {
    const s = parseSession(res.headers.get('session'));
    c.sessionId = s?.id ?? '';
    if (s?.timeoutS !== undefined) c.sessionTimeoutS = Math.max(2, s.timeoutS);
    const t = parseTransport(res.headers.get('transport') ?? '').find((x) => x.interleaved);
    if (t?.interleaved) c.channel = t.interleaved[0];
    return 'PLAY';
  }
  return undefined;
}

/** Drives OPTIONS..PLAY; returns a close reason when the answer ends the client. */
function onResponse(c: Conn, res: RtspResponse): [ClientCloseKind, string] | 'playing' | undefined {
  if (Number(res.cseq ?? -1) !== c.awaiting || c.state === 'playing' || c.state === 'connecting') return;
  if (res.status === 401) {
    const challenges = headerValues(res, 'www-authenticate');
    // RFC 7616 3.3: retry once with the challenge; a second 401 means wrong credentials, unless it
    // says stale=TRUE (our nonce expired, e.g. on a long session): then a few more.
    const stale = challenges.some((h) => /stale\s*=\s*"?true/i.test(h));
    if (c.creds && c.authTries < (stale ? 3 : 1)) {
      c.digest ??= createDigestClient(c.creds);
      if (c.digest.challenge(challenges)) {
        c.authTries++;
        step(c);
        return;
      }
    }
    return ['unauthorized', `${c.state} 401${c.creds ? '' : ' (no credentials)'}`];
  }
  if (res.status !== 200) {
    // OPTIONS is optional for some cameras: carry on without it.
    if (c.state !== 'OPTIONS') return ['unreachable', `${c.state} ${res.status}`];
    c.state = 'DESCRIBE';
    step(c);
    return;
  }
  const next = advance(c, res);
  if (next === undefined) return 'playing';
  c.state = next;
  step(c);
  return;
}

function end(c: Conn, kind: ClientCloseKind, detail: string): void {
  if (c.ended) return;
  c.ended = true;
  c.state = 'ended';
  for (const t of c.timers) clearTimeout(t);
  c.sock.destroy();
  try {
    c.ev.onClose(c.closedByUser ? 'closed' : kind, detail);
  } catch {
    // the listener's own failure is not the client's
  }
}

function safe(f: () => void): void {
  try {
    f();
  } catch {
    // the listener's problem
  }
}

function playing(c: Conn): void {
  c.state = 'playing';
  clearTimeout(c.timers[0]);
  c.lastMediaAt = Date.now();
  // RFC 2326 12.37 / A.1: any request refreshes the session; GET_PARAMETER is the usual one.
  const keepAlive = setInterval(
    () => send(c, 'GET_PARAMETER', c.sessionUrl),
    c.o.keepAliveMs ?? (c.sessionTimeoutS * 1000) / 2,
  );
  keepAlive.unref();
  c.timers.push(keepAlive);
  const mediaTimeoutMs = c.o.mediaTimeoutMs ?? 5000;
  if (mediaTimeoutMs > 0) {
    const watch = setInterval(
      () => {
        const now = Date.now();
        if (c.gotMedia) c.lastMediaAt = now;
        c.gotMedia = false;
        if (now - c.lastMediaAt > mediaTimeoutMs) end(c, 'stalled', `no media for ${mediaTimeoutMs} ms`);
      },
      Math.min(1000, mediaTimeoutMs / 2),
    );
    watch.unref();
    c.timers.push(watch);
  }
  if (c.play) safe(() => c.ev.onPlaying?.(c.play!));
}

function onData(c: Conn, chunk: Buffer): void {
  for (const e of c.parser.push(chunk)) {
    if (c.ended) return;
    if (e.kind === 'error') {
      end(c, 'error', `bad response: ${e.reason}`);
      return;
    }
    if (e.kind === 'response') {
      const r = onResponse(c, e.response);
      if (r === 'playing') playing(c);
      else if (r) {
        end(c, r[0], r[1]);
        return;
      }
      continue;
    }
    if (c.state !== 'playing') continue; // early media
    c.gotMedia = true;
    // No closure per packet: this runs for every RTP packet.
    try {
      c.ev.onFrame?.(e.frame);
      if (c.ev.onRtp && e.frame.channel === c.channel) {
        const h = parseRtpHeader(e.frame.data);
        if (h) c.ev.onRtp(h, e.frame.data);
      }
    } catch {
      // the listener's problem
    }
  }
}

function closeClient(c: Conn): Promise<void> {
  if (c.ended) return Promise.resolve();
  const wasPlaying = c.state === 'playing' && !c.closedByUser;
  c.closedByUser = true;
  if (wasPlaying && !c.sock.destroyed) {
    send(c, 'TEARDOWN', c.sessionUrl);
    c.sock.end();
  }
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      end(c, 'closed', 'closed');
      resolve();
    };
    const t = setTimeout(done, wasPlaying ? 200 : 0);
    t.unref();
    c.sock.once('close', done);
  });
}

export function startClient(o: ClientOptions, ev: ClientEvents): Client {
  const target = parseTarget(o.url);
  if (!target) {
    let done = false;
    const fail = (kind: ClientCloseKind, detail: string): void => {
      if (done) return;
      done = true;
      safe(() => ev.onClose(kind, detail));
    };
    queueMicrotask(() => fail('unreachable', 'not an rtsp:// URL'));
    return { state: () => 'ended', close: async () => fail('closed', 'closed') };
  }
  const c: Conn = {
    o,
    ev,
    target,
    sock: connect({ host: target.host, port: target.port, noDelay: true }),
    state: 'connecting',
    cseq: 0,
    awaiting: -1,
    digest: undefined,
    authTries: 0,
    sessionId: '',
    sessionTimeoutS: 60,
    control: target.url,
    sessionUrl: target.url,
    channel: 0,
    play: undefined,
    gotMedia: false,
    lastMediaAt: 0,
    timers: [],
    closedByUser: false,
    creds: o.credentials ?? target.creds,
    parser: createResponseParser({
      maxHeaderBytes: 16_384,
      maxBodyBytes: 49_152,
      keepFrameBytes: o.keepFrameBytes ?? Infinity,
    }),
    ended: false,
  };
  // timers[0] is the setup timer: playing() clears it.
  c.timers.push(
    setTimeout(() => end(c, 'unreachable', `setup timed out in ${c.state}`), o.setupTimeoutMs ?? 10_000),
  );
  c.sock.on('connect', () => {
    c.state = o.sendOptions === false ? 'DESCRIBE' : 'OPTIONS';
    step(c);
  });
  c.sock.on('data', (chunk: Buffer) => onData(c, chunk));
  c.sock.on('error', (err: NodeJS.ErrnoException) => {
    end(c, c.state === 'playing' ? 'closed' : 'unreachable', `socket ${err.code ?? err.message}`);
  });
  c.sock.on('close', () =>
    end(c, c.state === 'playing' ? 'closed' : 'unreachable', `connection closed in ${c.state}`),
  );
  return { state: () => c.state, close: () => closeClient(c) };
}
