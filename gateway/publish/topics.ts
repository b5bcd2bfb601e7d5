// Topic names and status payloads, in one place so the gateway, the console and the tests agree.
// Ids become topic levels, so the MQTT wildcards and the level separator are refused (MQTT 5 4.7.1).
import { UserError } from '../../config/errors.ts';
import { redactUrl } from '../../shared/log.ts';

export type CameraStatus = 'online' | 'offline' | 'unauthorized' | 'unreachable';
export type GatewayStatus = 'online' | 'offline';
export const cameraStatuses: readonly CameraStatus[] = ['online', 'offline', 'unauthorized', 'unreachable'];

/**
 * Payload of both status topics. JSON rather than a bare word so a reader learns which gateway
 * said it and since when, and can ignore a camera status whose gateway is itself offline.
 */
export interface StatusPayload<S extends string = CameraStatus | GatewayStatus> {
  v: 1;
  status: S;
  gatewayId: string;
  /** ISO time the status began (for a last will: when the session that left it started). */
  ts: string;
  detail?: string;
}

export interface Topics {
  readonly prefix: string;
  faces(cameraId: string): string;
  cameraStatus(cameraId: string): string;
  gatewayStatus(gatewayId: string): string;
  gatewayStats(gatewayId: string): string;
  /** Privacy: suspend/resume commands (in), retained per-camera audit records, live view audit. */
  readonly privacySet: string;
  privacyState(cameraId: string): string;
  readonly allPrivacyState: string;
  readonly auditLiveView: string;
  /** Filters for subscribers. */
  readonly allFaces: string;
  readonly allCameraStatus: string;
  readonly allGatewayStatus: string;
  readonly allGatewayStats: string;
}

const MAX_ID = 128;

/** Why an id cannot be a topic level, or undefined when it can. */
export function badId(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_ID) return `is longer than ${MAX_ID} characters`;
  if (/[+#/\u0000]/.test(id)) return 'contains one of + # / or NUL';
  // MQTT strings must be well-formed UTF-8 (MQTT 5 1.5.4): a lone surrogate would become U+FFFD.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(id))
    return 'is not well-formed Unicode';
  return undefined;
}

export function isValidId(id: string): boolean {
  return badId(id) === undefined;
}

/** Throws a one-line UserError: for ids that come from the configuration. */
export function assertId(kind: 'camera' | 'gateway', id: string): string {
  const why = badId(id);
  if (why)
    throw new UserError(`${kind} id ${JSON.stringify(id)} ${why}; it cannot be an MQTT topic level`, 2);
  return id;
}

export function createTopics(prefix: string): Topics {
  const p = prefix.replace(/\/+$/, '');
  if (p === '' || /[+#\u0000]/.test(p))
    throw new UserError(`mqtt.prefix ${JSON.stringify(prefix)} must be non-empty without + or #`, 2);
  const level = (kind: 'camera' | 'gateway', id: string): string => assertId(kind, id);
  return {
    prefix: p,
    faces: (id) => `${p}/cameras/${level('camera', id)}/faces`,
    cameraStatus: (id) => `${p}/cameras/${level('camera', id)}/status`,
    gatewayStatus: (id) => `${p}/gateways/${level('gateway', id)}/status`,
    gatewayStats: (id) => `${p}/gateways/${level('gateway', id)}/stats`,
    privacySet: `${p}/privacy/set`,
    privacyState: (id) => `${p}/privacy/${level('camera', id)}/state`,
    allPrivacyState: `${p}/privacy/+/state`,
    auditLiveView: `${p}/audit/liveview`,
    allFaces: `${p}/cameras/+/faces`,
    allCameraStatus: `${p}/cameras/+/status`,
    allGatewayStatus: `${p}/gateways/+/status`,
    allGatewayStats: `${p}/gateways/+/stats`,
  };
}

export function statusPayload<S extends string>(
  status: S,
  gatewayId: string,
  ts: Date | string,
  detail?: string,
): string {
  const body: StatusPayload<S> = {
    v: 1,
    status,
    gatewayId,
    ts: typeof ts === 'string' ? ts : ts.toISOString(),
  };
  // The detail is often ffmpeg's error line, which starts with the camera URL as given, password included.
  if (detail !== undefined && detail !== '') body.detail = redactUrl(detail);
  return JSON.stringify(body);
}
