// rtsp:// URLs (RFC 2326 3.2): host, port (554 by default) and credentials, which never go on
// the wire: they only answer a Digest challenge.
import type { Credentials } from './digest.ts';

export interface Target {
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
