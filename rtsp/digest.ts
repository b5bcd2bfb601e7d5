// HTTP Digest authentication for RTSP (RFC 7616, RFC 2617 3.2; RFC 2069 without qop): the
// header grammar, the response hash for MD5 and SHA-256, and the client side. The server side
// (nonces, nonce counts, uri check) is digest-server.ts. Parsers never throw.
import { createHash, randomBytes } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const MAX_PARAMS = 32;

/** Parses `Digest k=v, k="v"` (RFC 7616 3.3, 3.4); undefined if it is not a Digest header. */
export function parseAuthParams(header: string): Map<string, string> | undefined {
  const m = /^\s*(\w+)\s+(.*)$/s.exec(header.slice(0, 4096));
  if (!m || m[1]!.toLowerCase() !== 'digest') return undefined;
  const out = new Map<string, string>();
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/g;
  for (let p = re.exec(m[2]!); p !== null && out.size < MAX_PARAMS; p = re.exec(m[2]!)) {
    if (p[0].length === 0) break;
    const k = p[1]!.toLowerCase();
    if (!out.has(k)) out.set(k, p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? ''));
  }
  return out;
}

export function parseAlgorithm(v: string | undefined): DigestAlgorithm | undefined {
  const a = (v ?? 'MD5').toUpperCase();
  return a === 'MD5' ? 'MD5' : a === 'SHA-256' ? 'SHA-256' : undefined;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** The server offers qop=auth (RFC 7616 3.3): nc and cnonce go into the hash. */
  qopAuth: boolean;
  opaque?: string;
  stale: boolean;
}

/** One WWW-Authenticate value; undefined for other schemes and algorithms we cannot answer. */
export function parseChallenge(header: string): DigestChallenge | undefined {
  const p = parseAuthParams(header);
  const algorithm = parseAlgorithm(p?.get('algorithm'));
  if (!p || !algorithm || !p.has('nonce')) return undefined;
  const c: DigestChallenge = {
    realm: p.get('realm') ?? '',
    nonce: p.get('nonce') ?? '',
    algorithm,
    qopAuth: (p.get('qop') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .includes('auth'),
    stale: (p.get('stale') ?? '').toLowerCase() === 'true',
  };
  const opaque = p.get('opaque');
  if (opaque !== undefined) c.opaque = opaque;
  return c;
}

/** The strongest challenge we can answer: SHA-256 before MD5 (RFC 7616 3.7). */
export function pickChallenge(headers: readonly string[]): DigestChallenge | undefined {
  const all = headers.map(parseChallenge).filter((c): c is DigestChallenge => c !== undefined);
  return all.find((c) => c.algorithm === 'SHA-256') ?? all[0];
}

export interface AuthorizationParams {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  /** Present together: qop=auth, nc (8 hex digits), cnonce. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/** An Authorization value; undefined when it is not a well-formed Digest answer. */
export function parseAuthorization(header: string): AuthorizationParams | undefined {
  const p = parseAuthParams(header);
  const algorithm = parseAlgorithm(p?.get('algorithm'));
  if (!p || !algorithm) return undefined;
  const need = ['username', 'realm', 'nonce', 'uri', 'response'] as const;
  if (need.some((k) => p.get(k) === undefined)) return undefined;
  const a: AuthorizationParams = {
    username: p.get('username')!,
    realm: p.get('realm')!,
    nonce: p.get('nonce')!,
    uri: p.get('uri')!,
    response: p.get('response')!,
    algorithm,
  };
  const qop = p.get('qop');
  if (qop !== undefined) {
    const nc = p.get('nc') ?? '';
    const cnonce = p.get('cnonce') ?? '';
    if (qop.toLowerCase() !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(nc) || cnonce === '') return undefined;
    a.qop = 'auth';
    a.nc = nc;
    a.cnonce = cnonce;
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) a.opaque = opaque;
  return a;
}

const hash = (alg: DigestAlgorithm, s: string): string =>
  createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s)
    .digest('hex');

export function digestResponse(p: {
  username: string;
  password: string;
  realm: string;
  method: string;
  uri: string;
  nonce: string;
  algorithm?: DigestAlgorithm | undefined;
  qop?: string | undefined;
  nc?: string | undefined;
  cnonce?: string | undefined;
}): string {
  const alg = p.algorithm ?? 'MD5';
  const ha1 = hash(alg, `${p.username}:${p.realm}:${p.password}`);
  const ha2 = hash(alg, `${p.method}:${p.uri}`);
  // RFC 7616 3.4.1: with qop=auth the nonce count and client nonce enter the hash.
  if (p.qop === 'auth') return hash(alg, `${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`);
  return hash(alg, `${ha1}:${p.nonce}:${ha2}`);
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

export function formatAuthorization(a: AuthorizationParams): string {
  let s =
    `Digest username=${quote(a.username)}, realm=${quote(a.realm)}, nonce=${quote(a.nonce)}, ` +
    `uri=${quote(a.uri)}, response=${quote(a.response)}, algorithm=${a.algorithm}`;
  if (a.opaque !== undefined) s += `, opaque=${quote(a.opaque)}`;
  if (a.qop) s += `, qop=auth, nc=${a.nc}, cnonce=${quote(a.cnonce ?? '')}`;
  return s;
}

/** The client side: answers a challenge, counting nc per nonce (RFC 7616 3.4: never reused). */
export interface DigestClient {
  /** Takes the server's challenges (every WWW-Authenticate value); false if none can be answered. */
  challenge(headers: readonly string[]): boolean;
  current(): DigestChallenge | undefined;
  /** The Authorization value for a request, or undefined before a challenge. */
  authorization(method: string, uri: string): string | undefined;
}

export function createDigestClient(creds: Credentials): DigestClient {
  let ch: DigestChallenge | undefined;
  let nc = 0;
  return {
    challenge(headers) {
      const next = pickChallenge(headers);
      if (!next) return false;
      if (next.nonce !== ch?.nonce) nc = 0;
      ch = next;
      return true;
    },
    current: () => ch,
    authorization(method, uri) {
      if (!ch) return undefined;
      const base = {
        username: creds.username,
        realm: ch.realm,
        nonce: ch.nonce,
        uri,
        algorithm: ch.algorithm,
        ...(ch.opaque !== undefined ? { opaque: ch.opaque } : {}),
      };
      if (!ch.qopAuth) {
        const response = digestResponse({ ...base, password: creds.password, method });
        return formatAuthorization({ ...base, response });
      }
      nc = (nc + 1) >>> 0;
      const ncHex = nc.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      const q = { qop: 'auth' as const, nc: ncHex, cnonce };
      const response = digestResponse({ ...base, ...q, password: creds.password, method });
      return formatAuthorization({ ...base, ...q, response });
    },
  };
}

/** One-shot client answer to one challenge value (nc 1): for simple clients and tests. */
export function digestAuthorization(
  creds: Credentials,
  challenge: string,
  method: string,
  uri: string,
): string | undefined {
  const c = createDigestClient(creds);
  return c.challenge([challenge]) ? c.authorization(method, uri) : undefined;
}
