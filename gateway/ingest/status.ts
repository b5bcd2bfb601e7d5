// Classifies ffmpeg's stderr per camera. ffmpeg prefixes an input's fatal error with the URL
// exactly as given to -i ("rtsp://...: Server returned 401 Unauthorized"), which is how a failure
// in a shared process is pinned on one camera.

export type CameraStatus = 'online' | 'offline' | 'unauthorized' | 'unreachable';
export type FailureKind = 'unauthorized' | 'unreachable' | 'other';

export interface Failure {
  kind: FailureKind;
  /** The stderr line, for logs and status detail (credentials are redacted by the logger). */
  line: string;
}

const UNAUTHORIZED = /\b401\b|unauthori[sz]ed|authorization failed/i;
// Refused, timed out (the socket timeout surfaces as "Invalid data found" on a silent server),
// 404, DNS, resets: the camera is not there for us right now.
const UNREACHABLE =
  /connection refused|timed out|no route to host|network is unreachable|host is unreachable|\b404\b|not found|name or service not known|name resolution|invalid data found|connection reset|end of file|broken pipe/i;

export function classifyLine(line: string): FailureKind {
  if (UNAUTHORIZED.test(line)) return 'unauthorized';
  if (UNREACHABLE.test(line)) return 'unreachable';
  return 'other';
}

/**
 * Failures attributable to inputs, by input index. Lines not starting with an input's URL are
 * ignored here (the caller keeps them for the process-level log).
 */
export function attributeFailures(lines: readonly string[], urls: readonly string[]): Map<number, Failure> {
  const out = new Map<number, Failure>();
  for (const line of lines) {
    urls.forEach((url, i) => {
      if (!line.startsWith(`${url}: `)) return;
      const kind = classifyLine(line);
      const prev = out.get(i);
      // The most specific reason wins: unauthorized > unreachable > other.
      if (!prev || rank(kind) > rank(prev.kind)) out.set(i, { kind, line });
    });
  }
  return out;
}

function rank(k: FailureKind): number {
  return k === 'unauthorized' ? 2 : k === 'unreachable' ? 1 : 0;
}

/** The status a failure reports: `other` on a camera that never worked is still "unreachable". */
export function failureStatus(kind: FailureKind, wasOnline: boolean): CameraStatus {
  if (kind === 'unauthorized') return 'unauthorized';
  if (kind === 'unreachable') return 'unreachable';
  return wasOnline ? 'offline' : 'unreachable';
}

/** What both sources keep per camera for its status. */
export interface StatusHolder {
  id: string;
  status?: CameraStatus | undefined;
  wasOnline: boolean;
}

/** Sets a camera's status, logs and reports a change (nothing when it is the same). */
export function applyStatus(
  cam: StatusHolder,
  status: CameraStatus,
  detail: string | undefined,
  log: { info(o: object, msg: string): void },
  onStatus: (cameraId: string, status: CameraStatus, detail?: string) => void,
): void {
  if (cam.status === status) return;
  cam.status = status;
  if (status === 'online') cam.wasOnline = true;
  log.info({ camera: cam.id, status, detail }, 'camera status');
  if (detail === undefined) onStatus(cam.id, status);
  else onStatus(cam.id, status, detail);
}
