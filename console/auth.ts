// Who may open the console: a user with a scrypt password hash, or a shared token. A login makes a
// random session id, sent back only as an HttpOnly, SameSite=Strict cookie. Secrets are compared
// in constant time (as SHA-256 digests, so lengths do not leak either), and an address that keeps
// failing is refused for a while.
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** `scrypt$N$r$p$salt$hash` (base64), the format console.auth.passwordHash takes. */
export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  const { N, r, p, keylen } = SCRYPT;
  const key = scryptSync(password, salt, keylen, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/** Constant-time equality of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function verifyPassword(password: string, stored: string): boolean {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([^$]+)\$([^$]+)$/.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a hostile hash in the config from costing gigabytes.
  if (N > 1 << 20 || r > 32 || p > 16) return false;
  const want = Buffer.from(m[5] ?? '', 'base64');
  if (want.length < 16) return false;
  const got = scryptSync(password, Buffer.from(m[4] ?? '', 'base64'), want.length, {
    N,
    r,
    p,
    maxmem: 256 * 1024 * 1024,
  });
  return timingSafeEqual(got, want);
}

export interface AuthConfig {
  user: string;
  passwordHash: string;
  token: string;
}

export interface ConsoleAuth {
  readonly enabled: boolean;
  /** The logged-in name of a request's session, or undefined. 'anonymous' when auth is off. */
  who(req: IncomingMessage): string | undefined;
  /** A login attempt from `address`: the Set-Cookie value, or why not. */
  login(
    address: string,
    body: { user?: unknown; password?: unknown; token?: unknown },
  ): { ok: true; cookie: string; who: string } | { ok: false; status: 401 | 429; error: string };
  logout(req: IncomingMessage): string;
  stats(): { sessions: number; failures: number; refused: number };
}

export const COOKIE = 'facegate_session';

export function createConsoleAuth(
  cfg: AuthConfig,
  opts: { sessionS: number; maxFailures?: number; windowMs?: number; now?: () => number },
): ConsoleAuth {
  const now = opts.now ?? Date.now;
  const enabled = cfg.passwordHash !== '' || cfg.token !== '';
  const maxFailures = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 5 * 60_000;
  const sessions = new Map<string, { who: string; expires: number }>();
  const failures = new Map<string, { count: number; since: number }>();
  const counters = { failures: 0, refused: 0 };

  const sessionOf = (req: IncomingMessage): string | undefined => {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === COOKIE && v) return v;
    }
    return undefined;
  };
  const fail = (address: string): void => {
    counters.failures++;
    const f = failures.get(address);
    if (f && now() - f.since < windowMs) f.count++;
    else failures.set(address, { count: 1, since: now() });
    // Bounded: the oldest addresses go first.
    if (failures.size > 10_000) failures.delete(failures.keys().next().value as string);
  };

  return {
    enabled,
    who(req) {
      if (!enabled) return 'anonymous';
      const sid = sessionOf(req);
      const s = sid ? sessions.get(sid) : undefined;
      if (!s) return undefined;
      if (s.expires < now()) {
        sessions.delete(sid as string);
        return undefined;
      }
      return s.who;
    },
    login(address, body) {
      const f = failures.get(address);
      if (f && f.count >= maxFailures && now() - f.since < windowMs) {
        counters.refused++;
        return { ok: false, status: 429, error: 'too many failed logins; try again later' };
      }
      const str = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 1024) : '');
      let who: string | undefined;
      // Both checks always run, so the time taken does not say which one failed.
      const tokenOk = cfg.token !== '' && safeEqual(str(body.token), cfg.token);
      const userOk = cfg.passwordHash !== '' && safeEqual(str(body.user), cfg.user);
      const passOk = cfg.passwordHash !== '' && verifyPassword(str(body.password), cfg.passwordHash);
      if (userOk && passOk) who = cfg.user;
      else if (tokenOk) who = 'token';
      if (!who) {
        fail(address);
        return { ok: false, status: 401, error: 'wrong user, password or token' };
      }
      failures.delete(address);
      const sid = randomBytes(32).toString('base64url');
      sessions.set(sid, { who, expires: now() + opts.sessionS * 1000 });
      if (sessions.size > 1000) sessions.delete(sessions.keys().next().value as string);
      return {
        ok: true,
        who,
        cookie: `${COOKIE}=${sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${opts.sessionS}`,
      };
    },
    logout(req) {
      const sid = sessionOf(req);
      if (sid) sessions.delete(sid);
      return `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
    },
    stats: () => ({ sessions: sessions.size, ...counters }),
  };
}

/** Loopback addresses: the console may serve them without auth. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
