// RTSP header values with structure: Transport (RFC 2326 12.39), Session (12.37) and RTP-Info
// (12.33), parsed and written in one place for both sides. Parsers never throw: a value they
// cannot read gives undefined (or skips the bad element).

export const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

export interface TransportSpec {
  /** e.g. RTP/AVP/TCP, RTP/AVP (UDP), upper-cased. */
  protocol: string;
  unicast: boolean;
  /** interleaved=a-b (TCP). */
  interleaved?: [number, number];
  /** client_port=a-b (UDP). */
  clientPort?: [number, number];
  /** 8 hex digits, as written. */
  ssrc?: string;
  mode?: string;
}

const MAX_SPECS = 16;

function pair(v: string, max: number): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  return a > max || b > max ? undefined : [a, b];
}

/** Every transport spec of a Transport header, in the client's order of preference. */
export function parseTransport(header: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const raw of header.split(',').slice(0, MAX_SPECS)) {
    const params = raw
      .trim()
      .split(';')
      .map((p) => p.trim());
    const protocol = (params[0] ?? '').toUpperCase();
    if (!/^RTP\/AVP(\/(TCP|UDP))?$/.test(protocol)) continue;
    const spec: TransportSpec = { protocol, unicast: false };
    let bad = false;
    for (const p of params.slice(1)) {
      const eq = p.indexOf('=');
      const k = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
      const v = eq < 0 ? '' : p.slice(eq + 1).replace(/^"|"$/g, '');
      if (k === 'unicast') spec.unicast = true;
      else if (k === 'interleaved') {
        const i = pair(v, 255);
        if (i) spec.interleaved = i;
        else bad = true;
      } else if (k === 'client_port') {
        const c = pair(v, 65535);
        if (c) spec.clientPort = c;
      } else if (k === 'ssrc' && /^[0-9A-Fa-f]{1,8}$/.test(v)) spec.ssrc = v;
      else if (k === 'mode') spec.mode = v;
    }
    if (!bad) out.push(spec);
  }
  return out;
}

export function formatTransport(t: TransportSpec): string {
  const parts = [t.protocol];
  if (t.unicast) parts.push('unicast');
  if (t.interleaved) parts.push(`interleaved=${t.interleaved[0]}-${t.interleaved[1]}`);
  if (t.clientPort) parts.push(`client_port=${t.clientPort[0]}-${t.clientPort[1]}`);
  if (t.ssrc !== undefined) parts.push(`ssrc=${t.ssrc}`);
  if (t.mode !== undefined) parts.push(`mode="${t.mode}"`);
  return parts.join(';');
}

export interface TransportChoice {
  interleaved: [number, number] | undefined;
}

/** The server's pick: the first valid TCP interleaved spec; undefined when none is offered. */
export function chooseTransport(header: string | undefined): TransportChoice | undefined {
  if (!header) return undefined;
  const tcp = parseTransport(header).find((s) => s.protocol === 'RTP/AVP/TCP');
  return tcp ? { interleaved: tcp.interleaved } : undefined;
}

export interface SessionHeader {
  id: string;
  /** Seconds (RFC 2326 12.37; 60 when absent). */
  timeoutS?: number;
}

/** `id[;timeout=n]`; undefined without a usable id (RFC 2326 3.4: at least 8 octets is usual, any token is taken). */
export function parseSession(header: string | undefined): SessionHeader | undefined {
  if (header === undefined) return undefined;
  const [id0, ...params] = header.split(';');
  const id = (id0 ?? '').trim();
  if (!/^[A-Za-z0-9$\-_.+]{1,128}$/.test(id)) return undefined;
  const out: SessionHeader = { id };
  for (const p of params) {
    const m = /^\s*timeout\s*=\s*(\d{1,6})\s*$/i.exec(p);
    if (m) out.timeoutS = Number(m[1]);
  }
  return out;
}

export const formatSession = (s: SessionHeader): string =>
  s.timeoutS === undefined ? s.id : `${s.id};timeout=${s.timeoutS}`;

export interface RtpInfo {
  url: string;
  seq?: number;
  rtptime?: number;
}

/** RTP-Info: one entry per stream, `url=...;seq=n;rtptime=n`; entries without a url are skipped. */
export function parseRtpInfo(header: string): RtpInfo[] {
  const out: RtpInfo[] = [];
  for (const raw of header.split(',').slice(0, MAX_SPECS)) {
    const kv = new Map<string, string>();
    for (const p of raw.split(';')) {
      const eq = p.indexOf('=');
      if (eq > 0) kv.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
    }
    const url = kv.get('url');
    if (!url) continue;
    const entry: RtpInfo = { url };
    const seq = kv.get('seq') ?? '';
    const ts = kv.get('rtptime') ?? '';
    if (/^\d{1,5}$/.test(seq) && Number(seq) <= 0xffff) entry.seq = Number(seq);
    if (/^\d{1,10}$/.test(ts) && Number(ts) <= 0xffffffff) entry.rtptime = Number(ts);
    out.push(entry);
  }
  return out;
}

export function formatRtpInfo(entries: readonly RtpInfo[]): string {
  return entries
    .map((e) => {
      let s = `url=${e.url}`;
      if (e.seq !== undefined) s += `;seq=${e.seq}`;
      if (e.rtptime !== undefined) s += `;rtptime=${e.rtptime}`;
      return s;
    })
    .join(',');
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
