// A small RTSP client (RFC 2326, TCP interleaved) that keeps only the keyframes of an H.264 or
// H.265 stream: it depacketizes RTP (RFC 6184, RFC 7798) into access units and hands out the IDR
// (IRAP) ones in Annex-B, so the gateway's decoders never see the P frames, the network or RTSP.
// Failures end the client with a reason (unauthorized / unreachable / stalled / closed); the
// supervisor decides about retries. Nothing here throws out of a socket callback.
import { connect, type Socket } from 'node:net';
import { digestAuthorization, type Credentials } from '../../simulator/rtsp/digest.ts';
import { NAL_IDR, NAL_PPS, NAL_SLICE, NAL_SPS, nalType } from '../../simulator/rtsp/h264.ts';
import { createDepacketizer, parseRtpHeader } from '../../simulator/rtsp/rtp.ts';
import { createHevcDepacketizer } from '../../simulator/rtsp/h265.ts';
import { buildHevcKeyframe, hasIrap, isHevcSkippable } from './hevc-keyframe.ts';
import { toAnnexB } from './annexb.ts';

export type StreamCodec = 'h264' | 'h265';

export interface RtspClientOptions {
  /** rtsp://[user:pass@]host[:port]/path; credentials are used only to answer a Digest challenge. */
  url: string;
  /** TCP connect + OPTIONS..PLAY must finish within this (default 10 s). */
  setupTimeoutMs?: number;
  /** No RTP packet for this long after PLAY: the camera is stalled (default 5 s). */
  mediaTimeoutMs?: number;
  /** An access unit larger than this is dropped (default 4 MiB): bounds reassembly memory. */
  maxAuBytes?: number;
  /**
   * Keep the GOP so far (the keyframe and every picture since, Annex-B) for a catch-up decode on
   * activity onset: P pictures are then reassembled too. Bounded by maxGopBytes (default 2 MiB).
   */
  keepGop?: boolean;
  maxGopBytes?: number;
  userAgent?: string;
}

export type CloseKind = 'unauthorized' | 'unreachable' | 'stalled' | 'closed' | 'error';

export interface KeyframeUnit {
  /** Annex-B (4-byte start codes), parameter sets first: decodable on its own. */
  data: Buffer;
  codec: StreamCodec;
  /** RTP timestamp (90 kHz). */
  rtpTs: number;
  /** Wall-clock ms when the unit's last packet arrived. */
  arrivedAt: number;
}

export interface RtspClientEvents {
  onPlaying?(): void;
  onKeyframe(au: KeyframeUnit): void;
  /**
   * A non-IDR picture went by (not reassembled): its RTP payload bytes. What the activity gate
   * reads; bytes of a picture broken by a sequence gap count as far as they came.
   */
  onDelta?(bytes: number, rtpTs: number): void;
  /** Called exactly once, also after close() (kind 'closed'). */
  onClose(kind: CloseKind, detail: string): void;
}

export interface RtspClientStats {
  packets: number;
  bytes: number;
  keyframes: number;
  /** RTP sequence gaps; the access unit in progress is dropped (an IDR decodes only whole). */
  seqGaps: number;
  /** IDR units dropped: a gap, oversize, or not exactly one IDR picture. */
  droppedUnits: number;
}

/** The current GOP: its keyframe first, then each picture since, every one Annex-B. */
export interface GopUnits {
  codec: StreamCodec;
  units: Buffer[];
  /** Arrival of the newest picture's last packet. */
  arrivedAt: number;
}

export interface RtspClient {
  stats(): RtspClientStats;
  /** With keepGop: the GOP so far, or undefined (none yet, or broken by a loss or its size). */
  gop(): GopUnits | undefined;
  /** TEARDOWN (best effort), then the socket is destroyed; bounded by ~500 ms. */
  close(): Promise<void>;
}

const STAP_A = 24;
const FU_A = 28;
const MAX_TEXT = 65_536;

/** Parsed pieces of the DESCRIBE answer that the client needs. */
export interface SdpInfo {
  control: string;
  codec: StreamCodec;
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

/**
 * RFC 2326 C.1.1 (control URL), RFC 6184 8.2.1 (sprop-parameter-sets) or RFC 7798 7.1
 * (sprop-vps/sps/pps) for the first video media.
 */
export function parseSdp(sdp: string, base: string): SdpInfo {
  const lines = sdp.split(/\r?\n/);
  let inVideo = false;
  let control: string | undefined;
  let sessionControl: string | undefined;
  let sprop: string | undefined;
  let codec: StreamCodec = 'h264';
  const hevc: { vps?: string; sps?: string; pps?: string } = {};
  for (const l of lines) {
    if (l.startsWith('m=')) {
      if (inVideo) break;
      inVideo = l.startsWith('m=video');
      continue;
    }
    const c = /^a=control:(\S+)/.exec(l);
    if (c) {
      if (inVideo) control = c[1];
      else sessionControl ??= c[1];
    }
    const f = /^a=fmtp:\d+\s.*sprop-parameter-sets=([A-Za-z0-9+/=,]+)/.exec(l);
    if (f && inVideo) sprop = f[1];
    if (inVideo && /^a=rtpmap:\d+\s+H265\//i.test(l)) codec = 'h265';
    if (inVideo && l.startsWith('a=fmtp:'))
      for (const k of ['vps', 'sps', 'pps'] as const) {
        const m = new RegExp(`sprop-${k}=([A-Za-z0-9+/=]+)`).exec(l);
        if (m?.[1]) hevc[k] = m[1];
      }
  }
  const resolve = (ctl: string | undefined): string => {
    if (!ctl || ctl === '*') return base.replace(/\/$/, '');
    if (/^rtsps?:\/\//i.test(ctl)) return ctl;
    return `${base.endsWith('/') ? base : `${base}/`}${ctl}`;
  };
  const out: SdpInfo = { control: resolve(control ?? sessionControl), codec };
  if (codec === 'h265') {
    for (const k of ['vps', 'sps', 'pps'] as const) {
      const nal = Buffer.from(hevc[k] ?? '', 'base64');
      if (nal.length >= 2) out[k] = nal;
    }
    return out;
  }
  for (const b64 of (sprop ?? '').split(',')) {
    const nal = Buffer.from(b64, 'base64');
    if (nal.length === 0) continue;
    if (nalType(nal) === NAL_SPS) out.sps ??= nal;
    else if (nalType(nal) === NAL_PPS) out.pps ??= nal;
  }
  return out;
}

/**
 * Builds the Annex-B keyframe from one access unit's NAL units, or undefined when it is not
 * exactly one IDR picture. The decoder pool maps one written unit to one output frame, so a unit
 * that could decode to zero or two pictures (a P slice, a second first_mb_in_slice == 0 slice, as
 * a corrupted slice header gives) must not reach it.
 */
export function buildKeyframe(
  nals: readonly Buffer[],
  sps: Buffer | undefined,
  pps: Buffer | undefined,
): Buffer | undefined {
  let pictures = 0;
  let hasSps = false;
  let hasPps = false;
  let firstVcl = true;
  for (const nal of nals) {
    const t = nalType(nal);
    if (t === NAL_SPS) hasSps = true;
    else if (t === NAL_PPS) hasPps = true;
    else if (t === NAL_SLICE || (t >= 2 && t <= 4)) return undefined;
    else if (t === NAL_IDR) {
      if (nal.length < 2) return undefined;
      // first_mb_in_slice is the first ue(v) of the slice header: a leading 1 bit means 0.
      const starts = ((nal[1] ?? 0) & 0x80) !== 0;
      if (starts) pictures++;
      else if (firstVcl) return undefined;
      firstVcl = false;
    }
  }
  if (pictures !== 1) return undefined;
  // RFC 6184 8.2.1: out-of-band parameter sets apply when the unit does not carry its own.
  const pre: Buffer[] = [];
  if (!hasSps) {
    if (!sps) return undefined;
    pre.push(sps);
  }
  if (!hasPps) {
    if (!pps) return undefined;
    pre.push(pps);
  }
  return toAnnexB([...pre, ...nals]);
}

interface Target {
  host: string;
  port: number;
  /** The URL without credentials: what goes on the wire. */
  url: string;
  creds: Credentials | undefined;
}

export function parseTarget(url: string): Target | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'rtsp:') return undefined;
  const creds = u.username
    ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
    : undefined;
  u.username = '';
  u.password = '';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: u.port ? Number(u.port) : 554, url: u.toString(), creds };
}

export function startRtspClient(o: RtspClientOptions, ev: RtspClientEvents): RtspClient {
  const stats: RtspClientStats = { packets: 0, bytes: 0, keyframes: 0, seqGaps: 0, droppedUnits: 0 };
  const maxAu = o.maxAuBytes ?? 4 * 1024 * 1024;
  const mediaTimeoutMs = o.mediaTimeoutMs ?? 5000;
  const target = parseTarget(o.url);
  let ended = false;
  let socket: Socket | undefined;
  const timers = new Set<NodeJS.Timeout>();
  let closeWaiters: (() => void)[] = [];

  let closedByUser = false;
  function end(kind0: CloseKind, detail: string): void {
    if (ended) return;
    ended = true;
    const kind = closedByUser ? 'closed' : kind0;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    clearInterval(keepAlive);
    clearInterval(mediaWatch);
    socket?.destroy();
    try {
      ev.onClose(kind, detail);
    } catch {
      // the listener's own failure is not the client's
    }
  }
  let keepAlive: NodeJS.Timeout | undefined;
  let mediaWatch: NodeJS.Timeout | undefined;

  if (!target) {
    queueMicrotask(() => end('unreachable', 'not an rtsp:// URL'));
    return { stats: () => ({ ...stats }), gop: () => undefined, close: async () => end('closed', 'closed') };
  }

  const sock = connect({ host: target.host, port: target.port, noDelay: true });
  socket = sock;
  const setupTimer = setTimeout(
    () => end('unreachable', `setup timed out in ${state}`),
    o.setupTimeoutMs ?? 10_000,
  );
  timers.add(setupTimer);

  type State = 'connecting' | 'OPTIONS' | 'DESCRIBE' | 'SETUP' | 'PLAY' | 'playing';
  let state: State = 'connecting';
  let cseq = 0;
  let challenge: string | undefined;
  let authTries = 0;
  let sessionId = '';
  let sessionTimeoutS = 60;
  let control = target.url;
  let sessionUrl = target.url;
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let vps: Buffer | undefined;
  let codec: StreamCodec = 'h264';
  let lastMediaAt = 0;
  /** CSeq of the request whose answer drives the state machine; keep-alive answers are ignored. */
  let awaiting = -1;

  function request(method: string, uri: string, extra: string[] = []): number {
    const n = ++cseq;
    const lines = [
      `${method} ${uri} RTSP/1.0`,
      `CSeq: ${n}`,
      `User-Agent: ${o.userAgent ?? 'facegate-ingest'}`,
    ];
    if (challenge && target?.creds) {
      const auth = digestAuthorization(target.creds, challenge, method, uri);
      if (auth) lines.push(`Authorization: ${auth}`);
    }
    if (sessionId) lines.push(`Session: ${sessionId}`);
    lines.push(...extra);
    if (!sock.destroyed) sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    return n;
  }

  function step(): void {
    if (state === 'OPTIONS') awaiting = request('OPTIONS', target!.url);
    else if (state === 'DESCRIBE') awaiting = request('DESCRIBE', target!.url, ['Accept: application/sdp']);
    else if (state === 'SETUP')
      awaiting = request('SETUP', control, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']);
    else if (state === 'PLAY') awaiting = request('PLAY', sessionUrl, ['Range: npt=0.000-']);
  }

  function onResponse(status: number, headers: Map<string, string>, body: string): void {
    const cs = Number(headers.get('cseq') ?? -1);
    if (cs !== awaiting || state === 'playing' || state === 'connecting') return;
    if (status === 401) {
      const wa = headers.get('www-authenticate');
      // RFC 2617 3.2.1: retry once with the challenge; a second 401 means wrong credentials,
      // unless it says stale=TRUE (our nonce expired, e.g. on a long session): then a few more.
      const stale = wa !== undefined && /stale\s*=\s*"?true/i.test(wa);
      if (wa && target!.creds && authTries < (stale ? 3 : 1) && /^\s*digest/i.test(wa)) {
        authTries++;
        challenge = wa;
        step();
        return;
      }
      end('unauthorized', `${state} 401${target!.creds ? '' : ' (no credentials)'}`);
      return;
    }
    if (status !== 200) {
      // OPTIONS is optional for some cameras: carry on without it.
      if (state === 'OPTIONS') {
        state = 'DESCRIBE';
        step();
        return;
      }
      end('unreachable', `${state} ${status}`);
      return;
    }
    if (state === 'OPTIONS') state = 'DESCRIBE';
    else if (state === 'DESCRIBE') {
      const base = headers.get('content-base') ?? headers.get('content-location') ?? `${target!.url}/`;
      const info = parseSdp(body, base);
      control = info.control;
      sessionUrl = base.replace(/\/$/, '');
      sps = info.sps;
      pps = info.pps;
      vps = info.vps;
      codec = info.codec;
      dep = newDepacketizer();
      state = 'SETUP';
    } else if (state === 'SETUP') {
      const s = headers.get('session') ?? '';
      sessionId = s.split(';')[0]?.trim() ?? '';
      const t = /timeout=(\d+)/i.exec(s);
      if (t) sessionTimeoutS = Math.max(2, Number(t[1]));
      state = 'PLAY';
    } else if (state === 'PLAY') {
      state = 'playing';
      clearTimeout(setupTimer);
      timers.delete(setupTimer);
      lastMediaAt = Date.now();
      // RFC 2326 12.37 / A.1: any request refreshes the session; GET_PARAMETER is the usual one.
      keepAlive = setInterval(() => request('GET_PARAMETER', sessionUrl), (sessionTimeoutS * 1000) / 2);
      mediaWatch = setInterval(
        () => {
          if (Date.now() - lastMediaAt > mediaTimeoutMs) end('stalled', `no media for ${mediaTimeoutMs} ms`);
        },
        Math.min(1000, mediaTimeoutMs / 2),
      );
      keepAlive.unref();
      mediaWatch.unref();
      try {
        ev.onPlaying?.();
      } catch {
        // listener's problem
      }
      return;
    }
    step();
  }

  // ---- RTP: RFC 6184 / RFC 7798 depacketization into access units --------------------------
  let auTs = -1;
  /** The unit in progress is not wanted (a P picture) or already broken (gap, oversize). */
  let auSkip = false;
  let auNals: Buffer[] = [];
  let auBytes = 0;
  const newDepacketizer = (): { push(payload: Buffer): Buffer[] } =>
    codec === 'h265' ? createHevcDepacketizer() : createDepacketizer();
  let dep = newDepacketizer();
  let expectSeq = -1;
  /** Payload bytes of the picture at auTs, and whether it is a non-IDR one still to be reported. */
  let unitBytes = 0;
  let unitDelta = false;
  const keepGop = o.keepGop ?? false;
  const maxGop = o.maxGopBytes ?? 2 * 1024 * 1024;
  let gop: (GopUnits & { bytes: number }) | undefined;

  function reportDelta(): void {
    if (!unitDelta) return;
    unitDelta = false;
    try {
      ev.onDelta?.(unitBytes, auTs);
    } catch {
      // listener's problem
    }
  }

  function resetAu(ts: number): void {
    auTs = ts;
    auSkip = false;
    auNals = [];
    auBytes = 0;
    dep = newDepacketizer();
  }

  function finishAu(arrivedAt: number): void {
    const nals = auNals;
    const skip = auSkip;
    const ts = auTs;
    auNals = [];
    auBytes = 0;
    auSkip = true; // until the next timestamp
    if (skip || nals.length === 0) return;
    let idr = false;
    if (codec === 'h265') idr = hasIrap(nals);
    else for (const n of nals) if (nalType(n) === NAL_IDR) idr = true;
    if (!idr) {
      if (!gop) return;
      const unit = toAnnexB(nals);
      gop.bytes += unit.length;
      gop.units.push(unit);
      gop.arrivedAt = arrivedAt;
      if (gop.bytes > maxGop) gop = undefined;
      return;
    }
    const data =
      codec === 'h265' ? buildHevcKeyframe(nals, { vps, sps, pps }) : buildKeyframe(nals, sps, pps);
    gop = undefined;
    if (!data) {
      stats.droppedUnits++;
      return;
    }
    stats.keyframes++;
    if (keepGop) gop = { codec, units: [data], arrivedAt, bytes: data.length };
    try {
      ev.onKeyframe({ data, codec, rtpTs: ts, arrivedAt });
    } catch {
      // listener's problem
    }
  }

  function onRtp(pkt: Buffer): void {
    const h = parseRtpHeader(pkt);
    if (!h) return;
    const now = Date.now();
    lastMediaAt = now;
    stats.packets++;
    stats.bytes += pkt.length;
    const gap = expectSeq >= 0 && h.seq !== expectSeq;
    expectSeq = (h.seq + 1) & 0xffff;
    // RFC 6184 5.1: all packets of an access unit share the timestamp; a new one starts the next
    // unit even when the previous marker packet was lost.
    if (h.ts !== auTs) {
      if (auTs >= 0 && !auSkip) finishAu(now);
      reportDelta();
      resetAu(h.ts);
      unitBytes = 0;
      unitDelta = false;
    }
    unitBytes += pkt.length - h.payloadOffset;
    if (gap) {
      stats.seqGaps++;
      // A lost packet breaks this picture (and P pictures up to the next IDR, which we skip anyway).
      if (!auSkip && auNals.length > 0) stats.droppedUnits++;
      auSkip = true;
      auNals = [];
      gop = undefined; // the pictures after it reference what was lost
    }
    if (!auSkip) {
      const payload = pkt.subarray(h.payloadOffset);
      const t = (payload[0] ?? 0) & 0x1f;
      // Cheap test on the packet before reassembly: a non-IDR slice (single NAL, RFC 6184 5.6, or
      // the first FU-A fragment, 5.8; RFC 7798 4.4.1, 4.4.3) marks a picture we do not decode.
      const inner = t === FU_A ? (payload[1] ?? 0) & 0x1f : t === STAP_A ? NAL_IDR : t;
      const delta =
        codec === 'h265' ? isHevcSkippable(payload) : inner === NAL_SLICE || (inner >= 2 && inner <= 4);
      if (delta) unitDelta = true;
      // Without a GOP to keep, a P picture is not reassembled at all.
      if (delta && !gop) {
        auSkip = true;
        auNals = [];
      } else if (codec === 'h265' || t <= 23 || t === STAP_A || t === FU_A) {
        for (const nal of dep.push(payload)) {
          auBytes += nal.length + 4;
          auNals.push(nal);
        }
        if (auBytes > maxAu) {
          stats.droppedUnits++;
          auSkip = true;
          auNals = [];
        }
      }
      // STAP-B, MTAP, FU-B (RFC 6184 5.7, 5.8) are not allowed in packetization-mode 1: ignored.
    }
    if (h.marker) {
      if (!auSkip) finishAu(now);
      auSkip = true;
      reportDelta();
    }
  }

  // ---- the byte stream: RTSP responses and '$' frames (RFC 2326 10.12) ----------------------
  let text: Buffer | undefined;
  let pkt: Buffer | undefined;
  let pktFill = 0;
  let pktChannel = 0;
  let hdr = Buffer.alloc(0);

  function parse(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !ended) {
      if (pkt) {
        const n = Math.min(pkt.length - pktFill, chunk.length - i);
        chunk.copy(pkt, pktFill, i, i + n);
        pktFill += n;
        i += n;
        if (pktFill === pkt.length) {
          const p = pkt;
          pkt = undefined;
          if (pktChannel === 0) onRtp(p);
        }
        continue;
      }
      if (hdr.length > 0 || (text === undefined && chunk[i] === 0x24)) {
        // Interleaved header: '$', channel, 16-bit length.
        const need = 4 - hdr.length;
        const take = chunk.subarray(i, i + need);
        hdr = hdr.length === 0 ? Buffer.from(take) : Buffer.concat([hdr, take]);
        i += take.length;
        if (hdr.length < 4) return;
        pktChannel = hdr[1]!;
        const len = hdr.readUInt16BE(2);
        hdr = Buffer.alloc(0);
        if (chunk.length - i >= len) {
          // Whole packet inside the chunk: a view, no copy (socket chunks are never reused).
          const p = chunk.subarray(i, i + len);
          i += len;
          if (pktChannel === 0) onRtp(p);
        } else {
          pkt = Buffer.allocUnsafe(len);
          pktFill = 0;
        }
        continue;
      }
      text = text ? Buffer.concat([text, chunk.subarray(i)]) : Buffer.from(chunk.subarray(i));
      i = chunk.length;
      if (!drainText()) return;
    }
  }

  /** Parses complete responses from `text`; feeds the rest back. False when the client ended. */
  function drainText(): boolean {
    while (text !== undefined && !ended) {
      const end0 = text.indexOf('\r\n\r\n');
      if (end0 < 0) {
        if (text.length > MAX_TEXT) end('error', 'response header too large');
        return !ended;
      }
      const lines = text.subarray(0, end0).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
      }
      const cl = headers.get('content-length') ?? '0';
      if (!/^\d{1,5}$/.test(cl) || end0 + 4 + Number(cl) > MAX_TEXT) {
        end('error', 'bad Content-Length');
        return false;
      }
      const bodyEnd = end0 + 4 + Number(cl);
      if (text.length < bodyEnd) return true;
      const body = text.subarray(end0 + 4, bodyEnd).toString('latin1');
      const rest = text.subarray(bodyEnd);
      text = undefined;
      const m = /^RTSP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
      if (!m) {
        end('error', 'not an RTSP response');
        return false;
      }
      onResponse(Number(m[1]), headers, body);
      if (rest.length > 0 && !ended) parse(Buffer.from(rest));
      return !ended;
    }
    return !ended;
  }

  sock.on('connect', () => {
    state = 'OPTIONS';
    step();
  });
  sock.on('data', (c: Buffer) => {
    try {
      parse(c);
    } catch (err) {
      end('error', `parse failed: ${(err as Error).message}`);
    }
  });
  sock.on('error', (err: NodeJS.ErrnoException) => {
    end(state === 'playing' ? 'closed' : 'unreachable', `socket ${err.code ?? err.message}`);
  });
  sock.on('close', () =>
    end(state === 'playing' ? 'closed' : 'unreachable', `connection closed in ${state}`),
  );

  return {
    stats: () => ({ ...stats }),
    gop: () => (gop ? { codec: gop.codec, units: [...gop.units], arrivedAt: gop.arrivedAt } : undefined),
    close() {
      if (ended) return Promise.resolve();
      return new Promise<void>((resolve) => {
        closeWaiters.push(resolve);
        closedByUser = true;
        if (state === 'playing' && !sock.destroyed) {
          request('TEARDOWN', sessionUrl);
          sock.end();
        }
        const t = setTimeout(
          () => {
            end('closed', 'closed');
            for (const w of closeWaiters) w();
            closeWaiters = [];
          },
          state === 'playing' ? 200 : 0,
        );
        t.unref();
        sock.once('close', () => {
          clearTimeout(t);
          end('closed', 'closed');
          for (const w of closeWaiters) w();
          closeWaiters = [];
        });
      });
    },
  };
}
