// HTTP Digest authentication for RTSP (RFC 2617 3.2, RFC 7616 with MD5), server and client side.
// Nonces are stateless: a timestamp and an HMAC over it, so thousands of clients cost no memory.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Parses `Digest k=v, k="v"` (RFC 7616 3.4); undefined if it is not a Digest header. */
export function parseAuthParams(header: string): Map<string, string> | undefined {
  const m = /^\s*(\w+)\s+(.*)$/s.exec(header);
  if (!m || m[1]!.toLowerCase() !== 'digest') return undefined;
  const out = new Map<string, string>();
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/g;
  for (let p = re.exec(m[2]!); p !== null; p = re.exec(m[2]!)) {
    if (p[0].length === 0) break;
    out.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
  }
  return out;
}

export function digestResponse(p: {
  username: string;
  password: string;
  realm: string;
  method: string;
  uri: string;
  nonce: string;
  qop?: string | undefined;
  nc?: string | undefined;
  cnonce?: string | undefined;
}): string {
  const ha1 = md5(`${p.username}:${p.realm}:${p.password}`);
  const ha2 = md5(`${p.method}:${p.uri}`);
  // RFC 2617 3.2.2.1: with qop=auth the nonce count and client nonce enter the hash.
  if (p.qop === 'auth') return md5(`${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`);
  return md5(`${ha1}:${p.nonce}:${ha2}`);
}

export type AuthResult = 'ok' | 'missing' | 'wrong' | 'stale';

export interface DigestVerifier {
  realm: string;
  /** A WWW-Authenticate header value with a fresh nonce. */
  challenge(stale?: boolean): string;
  check(method: string, authorization: string | undefined): AuthResult;
}

export function createDigestVerifier(
  creds: Credentials,
  realm = 'facegate',
  nonceTtlMs = 300_000,
  now = Date.now,
): DigestVerifier {
  const secret = randomBytes(16);
  const sign = (t: string): string => createHmac('sha256', secret).update(t).digest('hex').slice(0, 24);
  const makeNonce = (): string => {
    const t = now().toString(16);
    return `${t}${sign(t)}`;
  };
  const nonceState = (nonce: string): 'ok' | 'bad' | 'stale' => {
    if (nonce.length <= 24) return 'bad';
    const t = nonce.slice(0, -24);
    const sig = Buffer.from(nonce.slice(-24));
    const want = Buffer.from(sign(t));
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return 'bad';
    return now() - parseInt(t, 16) > nonceTtlMs ? 'stale' : 'ok';
  };
  return {
    realm,
    challenge(stale = false) {
      // No qop offered: GStreamer's client only does the RFC 2069 form; clients that send qop anyway are accepted.
      return `Digest realm="${realm}", nonce="${makeNonce()}", algorithm=MD5${stale ? ', stale=TRUE' : ''}`;
    },
    check(method, authorization) {
      if (authorization === undefined) return 'missing';
      const p = parseAuthParams(authorization);
      if (!p) return 'wrong';
      const nonce = p.get('nonce') ?? '';
      const uri = p.get('uri') ?? '';
      const response = p.get('response') ?? '';
      const alg = (p.get('algorithm') ?? 'MD5').toUpperCase();
      if (p.get('username') !== creds.username || p.get('realm') !== realm || alg !== 'MD5') return 'wrong';
      const ns = nonceState(nonce);
      if (ns === 'bad') return 'wrong';
      const want = digestResponse({
        ...creds,
        realm,
        method,
        uri,
        nonce,
        qop: p.get('qop'),
        nc: p.get('nc'),
        cnonce: p.get('cnonce'),
      });
      const a = Buffer.from(response.toLowerCase());
      const b = Buffer.from(want);
      if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong';
      return ns === 'stale' ? 'stale' : 'ok';
    },
  };
}

/** Client side: the Authorization header for a request after a Digest challenge. */
export function digestAuthorization(
  creds: Credentials,
  challenge: string,
  method: string,
  uri: string,
): string | undefined {
  const p = parseAuthParams(challenge);
  if (!p) return undefined;
  const realm = p.get('realm') ?? '';
  const nonce = p.get('nonce') ?? '';
  const qop = p
    .get('qop')
    ?.split(',')
    .map((s) => s.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const nc = '00000001';
  const cnonce = randomBytes(8).toString('hex');
  const response = digestResponse({ ...creds, realm, method, uri, nonce, qop, nc, cnonce });
  const base = `Digest username="${creds.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
  return qop ? `${base}, qop=auth, nc=${nc}, cnonce="${cnonce}"` : base;
}
