// Suspend windows: detection off for a camera, a district or all, by schedule (privacy.suspend)
// and by command (<prefix>/privacy/set). Every change of a camera's state is published as a
// retained audit record on <prefix>/privacy/<camera>/state and logged. The latest command that
// names a camera wins (its own id, its district, or all); `"state":"schedule"` hands it back to
// the schedule. Commands reach every gateway; per-camera results survive in the retained records,
// which a gateway that takes a camera over reads back (records made by a command act as a command).
import type { SuspendRule } from '../../config/privacy.ts';
import type { Logger } from '../../shared/log.ts';
import { oneLine } from '../../shared/log.ts';
import {
  privacyCommandSchema,
  privacyRecordSchema,
  type PrivacyCommandPayload,
  type PrivacyRecord,
  type PrivacyState,
} from '../../contract/privacy.ts';
import { scheduledSuspension } from './schedule.ts';

export type { PrivacyState };
/** The retained audit record of one camera (contract/privacy.ts). */
export type StateRecord = PrivacyRecord;

export type PrivacyCommand = PrivacyCommandPayload & { clientId: string };

// Our own records, read back: the fields a new owner needs (older records may lack v and gatewayId).
const recordSchema = privacyRecordSchema.omit({ v: true, gatewayId: true });

type UserProps = Record<string, string | string[]> | undefined;

/** Parses a command; the sender is the MQTT 5 user property `clientId` when present. */
export function parsePrivacyCommand(
  payload: Buffer,
  userProps?: UserProps,
): { ok: true; cmd: PrivacyCommand } | { ok: false; error: string } {
  if (payload.length > 4096) return { ok: false, error: 'privacy command larger than 4 KiB' };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, error: 'privacy command is not JSON' };
  }
  const res = privacyCommandSchema.safeParse(json);
  if (!res.success) {
    const i = res.error.issues[0];
    return { ok: false, error: oneLine(`privacy command: ${i?.path.join('.') || '(root)'}: ${i?.message}`) };
  }
  const prop = userProps?.['clientId'];
  const fromProp = Array.isArray(prop) ? prop[0] : prop;
  const clientId = (fromProp?.slice(0, 128) || res.data.clientId) ?? 'unknown';
  return { ok: true, cmd: { ...res.data, clientId } };
}

interface Override {
  state: 'suspended' | 'active' | 'schedule';
  at: number;
  clientId: string;
  reason: string | undefined;
}

interface Cam {
  district: string | undefined;
  current: StateRecord | undefined;
}

export interface PrivacyControlDeps {
  log: Logger;
  /** Publishes a retained record (the gateway's MQTT link). */
  publish(cameraId: string, record: StateRecord): void;
  /** A camera's detection was switched off (true) or on (false). */
  onChange(cameraId: string, suspended: boolean): void;
  now?: () => number;
}

export interface PrivacyControl {
  setCameras(list: readonly { id: string; district?: string | undefined }[]): void;
  /** Applies a command; returns the error line when it was refused. */
  command(payload: Buffer, userProps?: UserProps): string | undefined;
  /** A retained record read back from the broker. */
  restore(cameraId: string, payload: Buffer): void;
  suspended(cameraId: string): boolean;
  /** Re-evaluates the schedules (the gateway calls it every privacy.checkEveryS). */
  tick(): void;
  records(): StateRecord[];
}

export function createPrivacyControl(
  opts: { rules: readonly SuspendRule[]; gatewayId: string },
  deps: PrivacyControlDeps,
): PrivacyControl {
  const log = deps.log.child({ component: 'privacy' });
  const now = deps.now ?? Date.now;
  const cams = new Map<string, Cam>();
  const overrides = new Map<string, Override>();
  /** Retained records seen for cameras (ours or not yet ours), bounded by what the broker holds. */
  const known = new Map<string, StateRecord>();

  const winning = (id: string, cam: Cam): Override | undefined => {
    let best: Override | undefined;
    for (const key of [`camera:${id}`, cam.district !== undefined ? `district:${cam.district}` : '', 'all']) {
      const o = key ? overrides.get(key) : undefined;
      if (o && (!best || o.at >= best.at)) best = o;
    }
    return best;
  };

  const evaluate = (id: string, cam: Cam, cause?: PrivacyCommand): void => {
    const t = now();
    const o = winning(id, cam);
    let next: Pick<StateRecord, 'state' | 'by' | 'pinned' | 'clientId' | 'reason'>;
    if (o && o.state !== 'schedule') {
      next = {
        state: o.state,
        by: 'command',
        pinned: true,
        clientId: o.clientId,
        ...(o.reason ? { reason: o.reason } : {}),
      };
    } else {
      const rule = scheduledSuspension(opts.rules, id, cam.district, t);
      next = rule
        ? { state: 'suspended', by: 'schedule', pinned: false, reason: rule.reason || 'schedule' }
        : { state: 'active', by: 'schedule', pinned: false };
      // Handed back to the schedule by a command just now: the command caused this change.
      if (cause && o?.state === 'schedule')
        next = {
          ...next,
          by: 'command',
          clientId: cause.clientId,
          ...(cause.reason ? { reason: cause.reason } : {}),
        };
    }
    const prev = cam.current ?? known.get(id);
    // A command that pins the state the schedule gave (or the reverse) is a change of who decides.
    if ((prev?.state === next.state && prev.pinned === next.pinned) || (!prev && next.state === 'active')) {
      cam.current ??= prev ?? {
        v: 1,
        camera: id,
        since: new Date(t).toISOString(),
        gatewayId: opts.gatewayId,
        ...next,
      };
      return;
    }
    const record: StateRecord = {
      v: 1,
      camera: id,
      ...next,
      // The state holds since it began, even when only who decides it changed.
      since: prev?.state === next.state ? prev.since : new Date(t).toISOString(),
      gatewayId: opts.gatewayId,
    };
    cam.current = record;
    const changed = prev?.state !== record.state;
    log.info(
      {
        camera: id,
        state: record.state,
        by: record.by,
        pinned: record.pinned,
        clientId: record.clientId,
        reason: record.reason,
      },
      !changed
        ? 'privacy state confirmed'
        : record.state === 'suspended'
          ? 'detection suspended'
          : 'detection resumed',
    );
    deps.publish(id, record);
    if (changed) deps.onChange(id, record.state === 'suspended');
  };

  const evaluateAll = (cause?: PrivacyCommand): void => {
    for (const [id, cam] of cams) evaluate(id, cam, cause);
  };

  return {
    setCameras(list) {
      const next = new Set(list.map((c) => c.id));
      for (const id of cams.keys()) if (!next.has(id)) cams.delete(id);
      for (const c of list) {
        const cam = cams.get(c.id);
        if (cam) cam.district = c.district;
        else cams.set(c.id, { district: c.district, current: undefined });
      }
      evaluateAll();
    },
    command(payload, userProps) {
      const res = parsePrivacyCommand(payload, userProps);
      if (!res.ok) return res.error;
      const c = res.cmd;
      const key =
        c.camera !== undefined
          ? `camera:${c.camera}`
          : c.district !== undefined
            ? `district:${c.district}`
            : 'all';
      overrides.set(key, { state: c.state, at: now(), clientId: c.clientId, reason: c.reason });
      log.info({ target: key, state: c.state, clientId: c.clientId, reason: c.reason }, 'privacy command');
      evaluateAll(c);
      return undefined;
    },
    restore(id, payload) {
      if (payload.length === 0 || payload.length > 4096) return;
      let json: unknown;
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      const r = recordSchema.safeParse(json);
      if (!r.success || r.data.camera !== id) return;
      const rec: StateRecord = { v: 1, gatewayId: '', ...r.data };
      known.set(id, rec);
      const at = Date.parse(rec.since);
      const key = `camera:${id}`;
      if (rec.pinned && (overrides.get(key)?.at ?? -1) < at)
        overrides.set(key, { state: rec.state, at, clientId: rec.clientId ?? 'unknown', reason: rec.reason });
      const cam = cams.get(id);
      if (cam) evaluate(id, cam);
    },
    suspended: (id) => cams.get(id)?.current?.state === 'suspended',
    tick: () => evaluateAll(),
    records: () => [...cams.values()].flatMap((c) => (c.current ? [c.current] : [])),
  };
}
