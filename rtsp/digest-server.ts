// The server side of Digest (RFC 7616 3.3, 3.4.5-3.4.6): challenges for SHA-256 and MD5, and the
// check of an Authorization header: user, realm, algorithm, our own unexpired nonce, the `uri`
// against the request's URI, the response hash, and (with qop=auth) a nonce count above every
// one seen for that nonce, so a replayed header is refused. Nonces are a timestamp and an HMAC
// over it, so issuing them costs no memory; counts are kept for a bounded number of nonces.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { digestResponse, parseAuthorization, type Credentials, type DigestAlgorithm } from './digest.ts';

export type AuthResult = 'ok' | 'missing' | 'wrong' | 'stale' | 'replay';

export interface DigestVerifierOptions {
  /** Challenges offered, strongest first (default SHA-256 then MD5; ffmpeg and GStreamer answer MD5). */
  algorithms?: readonly DigestAlgorithm[];
  /** Nonces whose counts are remembered (default 65,536); older ones are answered stale. */
  maxNonces?: number;
}

export interface DigestVerifier {
  realm: string;
  /** One WWW-Authenticate value per offered algorithm, each with a fresh nonce. */
  challenges(stale?: boolean): string[];
  /** The challenge of one algorithm (default MD5). */
  challenge(stale?: boolean, algorithm?: DigestAlgorithm): string;
  /** `uri` is the request's URI, which the header's `uri` must name. */
  check(method: string, uri: string, authorization: string | undefined): AuthResult;
}

/** The header's uri names the request's: equal, or the same path when one has no scheme and host. */
export function sameUri(header: string, request: string): boolean {
  if (header === request) return true;
  const path = (u: string): string => u.replace(/^rtsps?:\/\/[^/]*/i, '') || '/';
  const abs = /^rtsps?:\/\//i;
  return abs.test(header) !== abs.test(request) && path(header) === path(request);
}

export function createDigestVerifier(
  creds: Credentials,
  realm = 'facegate',
  nonceTtlMs = 300_000,
  now = Date.now,
  opts: DigestVerifierOptions = {},
): DigestVerifier {
  const algorithms = opts.algorithms ?? ['SHA-256', 'MD5'];
  const maxNonces = opts.maxNonces ?? 65_536;
  const secret = randomBytes(16);
  /** Highest nc seen per nonce, in order of first use. */
  const counts = new Map<string, number>();
  /** Issue time of the newest nonce whose count was forgotten: older nonces are stale. */
  let forgotten = -1;
  /** Hex digits of a nonce's HMAC. */
  const SIG = 24;
  const sign = (t: string): string => createHmac('sha256', secret).update(t).digest('hex').slice(0, SIG);
  // A nonce is its issue time, 16 random hex digits and an HMAC over both. The random part makes
  // every challenge unique: two clients challenged in the same millisecond once got one nonce, and
  // the second one's nc=00000001 was refused as a replay of the first's.
  const TAIL = 16 + SIG;
  const makeNonce = (): string => {
    const t = now().toString(16) + randomBytes(8).toString('hex');
    return `${t}${sign(t)}`;
  };
  const issuedAt = (nonce: string): number => parseInt(nonce.slice(0, -TAIL), 16);
  const nonceState = (nonce: string): 'ok' | 'bad' | 'stale' => {
    if (nonce.length <= TAIL || nonce.length > TAIL + 16) return 'bad';
    const t = nonce.slice(0, -SIG);
    const sig = Buffer.from(nonce.slice(-SIG));
    const want = Buffer.from(sign(t));
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return 'bad';
    const at = issuedAt(nonce);
    return now() - at > nonceTtlMs || (at <= forgotten && !counts.has(nonce)) ? 'stale' : 'ok';
  };
  const challenge = (stale = false, algorithm: DigestAlgorithm = 'MD5'): string =>
    // MD5 without qop: GStreamer's client only does the RFC 2069 form; clients that send qop anyway
    // are checked with it. SHA-256 is RFC 7616 only, where qop is required.
    `Digest realm="${realm}", nonce="${makeNonce()}", algorithm=${algorithm}` +
    `${algorithm === 'SHA-256' ? ', qop="auth"' : ''}${stale ? ', stale=TRUE' : ''}`;

  /** Records nc for the nonce; false when it is not above every count seen (a replay). */
  function count(nonce: string, ncHex: string): boolean {
    const nc = parseInt(ncHex, 16);
    const last = counts.get(nonce);
    if (last !== undefined && nc <= last) return false;
    counts.delete(nonce);
    counts.set(nonce, nc);
    while (counts.size > maxNonces) {
      const oldest = counts.keys().next().value as string;
      counts.delete(oldest);
      forgotten = Math.max(forgotten, issuedAt(oldest));
    }
    return true;
  }

  return {
    realm,
    challenge,
    challenges: (stale = false) => algorithms.map((a) => challenge(stale, a)),
    check(method, uri, authorization) {
      if (authorization === undefined) return 'missing';
      const a = parseAuthorization(authorization);
      if (!a || a.username !== creds.username || a.realm !== realm) return 'wrong';
      if (!algorithms.includes(a.algorithm) || !sameUri(a.uri, uri)) return 'wrong';
      const ns = nonceState(a.nonce);
      if (ns === 'bad') return 'wrong';
      const want = Buffer.from(digestResponse({ ...creds, ...a, realm, method }));
      const got = Buffer.from(a.response.toLowerCase());
      if (got.length !== want.length || !timingSafeEqual(got, want)) return 'wrong';
      if (ns === 'stale') return 'stale';
      if (a.qop && a.nc !== undefined && !count(a.nonce, a.nc)) return 'replay';
      return 'ok';
    },
  };
}
