// Session descriptions (RFC 4566) for H.264 and H.265 video over RTP, written by the server and
// read by the clients with this one module: payload type and clock (RFC 3551), fmtp parameters
// (RFC 6184 8.2.1: packetization-mode, profile-level-id, sprop-parameter-sets; RFC 7798 7.2.1:
// sprop-vps/sps/pps), control URLs (RFC 2326 C.1.1). The reader never throws and is bounded by
// MAX_LINES; what it cannot read is left out.

export type SdpCodec = 'h264' | 'h265';

export interface SdpVideo {
  /** Dynamic payload type (96..127). */
  payloadType: number;
  /** 'other' for media the clients here do not play (read only). */
  codec: SdpCodec | 'other';
  clockRate: number;
  /** a=control of the media, as written (relative or absolute). */
  control?: string;
  /** H.264: RFC 6184 parameters. */
  packetizationMode?: number;
  profileLevelId?: string;
  /** H.264 parameter sets (SPS, PPS), each a NAL unit without start code. */
  parameterSets?: Buffer[];
  /** H.265 parameter sets. */
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
  bandwidthKbps?: number;
  framerate?: number;
  width?: number;
  height?: number;
}

export interface SessionDescription {
  /** o= sess-id (digits). */
  sessionId: string;
  /** o= unicast address: an IPv4 or IPv6 address or a host name. */
  host: string;
  /** s= session name. */
  name: string;
  /** Session-level a=control ('*' for the aggregate). */
  control?: string;
  /** Live stream: a=range:npt=now- (RFC 2326 C.1.5). */
  live?: boolean;
  video: SdpVideo[];
}

const MAX_LINES = 1024;
const MAX_MEDIA = 16;
const b64 = (b: Buffer): string => b.toString('base64');

function fmtp(v: SdpVideo): string | undefined {
  const p: string[] = [];
  if (v.codec === 'h264') {
    if (v.packetizationMode !== undefined) p.push(`packetization-mode=${v.packetizationMode}`);
    if (v.profileLevelId !== undefined) p.push(`profile-level-id=${v.profileLevelId}`);
    if (v.parameterSets?.length) p.push(`sprop-parameter-sets=${v.parameterSets.map(b64).join(',')}`);
  } else {
    // RFC 7798 7.1 / 7.2.1: parameter sets out of band, in the order VPS, SPS, PPS.
    if (v.vps) p.push(`sprop-vps=${b64(v.vps)}`);
    if (v.sps) p.push(`sprop-sps=${b64(v.sps)}`);
    if (v.pps) p.push(`sprop-pps=${b64(v.pps)}`);
  }
  return p.length > 0 ? `a=fmtp:${v.payloadType} ${p.join(';')}` : undefined;
}

/** One session with its video media (CRLF lines). */
export function writeSdp(d: SessionDescription): string {
  const ipv = d.host.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=- ${d.sessionId} 1 IN ${ipv} ${d.host}`,
    `s=${d.name}`,
    `c=IN ${ipv} ${ipv === 'IP6' ? '::' : '0.0.0.0'}`,
    't=0 0',
    'a=tool:facegate',
    'a=type:broadcast',
  ];
  if (d.control !== undefined) lines.push(`a=control:${d.control}`);
  if (d.live) lines.push('a=range:npt=now-');
  for (const v of d.video) {
    if (v.codec === 'other') continue;
    lines.push(`m=video 0 RTP/AVP ${v.payloadType}`);
    if (v.bandwidthKbps !== undefined) lines.push(`b=AS:${v.bandwidthKbps}`);
    lines.push(`a=rtpmap:${v.payloadType} ${v.codec === 'h265' ? 'H265' : 'H264'}/${v.clockRate}`);
    const f = fmtp(v);
    if (f) lines.push(f);
    if (v.framerate !== undefined) lines.push(`a=framerate:${v.framerate}`);
    if (v.width !== undefined && v.height !== undefined) {
      lines.push(`a=framesize:${v.payloadType} ${v.width}-${v.height}`);
      lines.push(`a=x-dimensions:${v.width},${v.height}`);
    }
    if (v.control !== undefined) lines.push(`a=control:${v.control}`);
  }
  lines.push('');
  return lines.join('\r\n');
}

const num = (s: string | undefined, max: number): number | undefined =>
  s !== undefined && /^\d{1,10}$/.test(s) && Number(s) <= max ? Number(s) : undefined;

function readFmtp(v: SdpVideo, params: string): void {
  for (const kv of params.split(';')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const k = kv.slice(0, eq).trim().toLowerCase();
    const val = kv.slice(eq + 1).trim();
    const nal = (): Buffer | undefined => {
      const b = Buffer.from(val, 'base64');
      return b.length > 0 ? b : undefined;
    };
    if (k === 'packetization-mode') {
      const n = num(val, 2);
      if (n !== undefined) v.packetizationMode = n;
    } else if (k === 'profile-level-id' && /^[0-9A-Fa-f]{6}$/.test(val)) v.profileLevelId = val;
    else if (k === 'sprop-parameter-sets') {
      const sets = val
        .split(',')
        .slice(0, 16)
        .map((s) => Buffer.from(s, 'base64'))
        .filter((b) => b.length > 0);
      if (sets.length > 0) v.parameterSets = sets;
    } else if (k === 'sprop-vps' || k === 'sprop-sps' || k === 'sprop-pps') {
      const b = nal();
      if (b) v[k.slice(6) as 'vps' | 'sps' | 'pps'] = b;
    }
  }
}

/** One a= or b= line of a video media section. */
function readMediaLine(v: SdpVideo, line: string): void {
  const [key, value] = splitAttr(line);
  if (line.startsWith('b=AS:')) {
    const n = num(line.slice(5), 1e9);
    if (n !== undefined) v.bandwidthKbps = n;
  } else if (key === 'control' && value) v.control = value;
  else if (key === 'rtpmap') {
    const m = /^(\d{1,3})\s+([A-Za-z0-9-]+)\/(\d{1,6})/.exec(value);
    if (m && Number(m[1]) === v.payloadType) {
      const enc = m[2]!.toUpperCase();
      v.codec = enc === 'H264' ? 'h264' : enc === 'H265' ? 'h265' : 'other';
      v.clockRate = Number(m[3]);
    }
  } else if (key === 'fmtp') {
    const m = /^(\d{1,3})\s+(.*)$/.exec(value);
    if (m && Number(m[1]) === v.payloadType) readFmtp(v, m[2]!);
  } else if (key === 'framerate') {
    const n = num(value, 1000);
    if (n !== undefined) v.framerate = n;
  } else if (key === 'framesize') {
    const m = /^\d{1,3}\s+(\d{1,5})-(\d{1,5})$/.exec(value);
    if (m) {
      v.width = Number(m[1]);
      v.height = Number(m[2]);
    }
  }
}

function splitAttr(line: string): [string, string] {
  if (!line.startsWith('a=')) return ['', ''];
  const c = line.indexOf(':');
  return c < 0 ? [line.slice(2), ''] : [line.slice(2, c), line.slice(c + 1).trim()];
}

/** Reads what writeSdp writes, and what cameras write of it; video media only. */
export function readSdp(text: string): SessionDescription {
  const d: SessionDescription = { sessionId: '', host: '', name: '', video: [] };
  let media: SdpVideo | undefined;
  let inOther = false;
  for (const line of text.split(/\r?\n/, MAX_LINES)) {
    if (line.startsWith('m=')) {
      media = undefined;
      inOther = true;
      const m = /^m=video \d{1,5}(?:\/\d+)? RTP\/AVP(?:\/TCP)? (\d{1,3})/.exec(line);
      if (m && d.video.length < MAX_MEDIA) {
        media = { payloadType: Number(m[1]), codec: 'other', clockRate: 90_000 };
        d.video.push(media);
      }
      continue;
    }
    if (media) {
      readMediaLine(media, line);
      continue;
    }
    if (inOther) continue;
    const o = /^o=\S+ (\d{1,20}) \S+ IN IP[46] (\S+)$/.exec(line);
    if (o) {
      d.sessionId = o[1]!;
      d.host = o[2]!;
    } else if (line.startsWith('s=')) d.name = line.slice(2);
    else if (line === 'a=range:npt=now-') d.live = true;
    else {
      const [key, value] = splitAttr(line);
      if (key === 'control' && value && d.control === undefined) d.control = value;
    }
  }
  return d;
}

/** RFC 2326 C.1.1: a control URL against the base (Content-Base, else the request URL). */
export function resolveControl(control: string | undefined, base: string): string {
  if (!control || control === '*') return base.replace(/\/$/, '');
  if (/^rtsps?:\/\//i.test(control)) return control;
  return `${base.endsWith('/') ? base : `${base}/`}${control}`;
}
