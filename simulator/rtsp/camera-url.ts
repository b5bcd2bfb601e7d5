// The simulator's camera URLs: rtsp://host[:port]/cam/<id>[/<track>] (RFC 2326 3.2).

export interface CameraUrl {
  cameraId: string;
  /** What follows the camera id: '' for the aggregate, e.g. 'trackID=0' for the track. */
  rest: string;
  /** rtsp://host[:port]/cam/<id>/ as the client wrote it, for Content-Base and RTP-Info. */
  base: string;
}

const CAM_PATH = /^\/cam\/([A-Za-z0-9_.-]{1,64})(?:\/(.*))?$/;

/** Accepts `rtsp://host[:port]/cam/<id>[/<track>]` or a bare path; query strings are ignored. */
export function parseCameraUrl(uri: string, fallbackHost: string): CameraUrl | undefined {
  let authority = fallbackHost;
  let path = uri;
  const abs = /^rtsps?:\/\/([^/?#]*)(.*)$/i.exec(uri);
  if (abs) {
    authority = abs[1]!.replace(/^[^@]*@/, ''); // never echo credentials
    path = abs[2]!;
  }
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  const m = CAM_PATH.exec(path);
  if (!m) return undefined;
  const cameraId = m[1]!;
  return { cameraId, rest: (m[2] ?? '').replace(/\/+$/, ''), base: `rtsp://${authority}/cam/${cameraId}/` };
}
