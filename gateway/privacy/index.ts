// The gateway's privacy stage, between decoding and analysis: a suspended camera's frames go no
// further; the others have their masked pixels blanked before the motion gate and the detector.
// Owns the <prefix>/privacy/set subscription and the retained audit records.
import type { Config } from '../../config/schema.ts';
import type { Polygon } from '../../config/privacy.ts';
import type { Logger } from '../../shared/log.ts';
import type { MqttLink } from '../../shared/mqtt.ts';
import type { Frame } from '../frame.ts';
import type { Topics } from '../../contract/topics.ts';
import { createMasks, type Masks } from './mask.ts';
import { createPrivacyControl, type PrivacyControl } from './suspend.ts';

export interface PrivacyStats {
  maskedCameras: number;
  suspendedCameras: number;
  /** Frames dropped because their camera was suspended. */
  framesSuspended: number;
  framesMasked: number;
  commandsRefused: number;
}

export interface GatewayPrivacy {
  masks: Masks;
  control: PrivacyControl;
  /** False: drop the frame (suspended). True: analyse it, masked pixels already blanked. */
  admit(frame: Frame): boolean;
  /** For the rtsp ingest: a suspended camera needs only enough keyframes to stay healthy. */
  idle(cameraId: string): boolean;
  setCameras(list: readonly { id: string; district?: string | undefined }[]): void;
  /** Masks and districts from the simulator catalog. */
  setCatalog(masks: Map<string, Polygon[]>, districts: Map<string, string>): void;
  stats(): PrivacyStats;
  close(): void;
}

export function createGatewayPrivacy(
  cfg: Config,
  deps: {
    log: Logger;
    link: MqttLink;
    topics: Topics;
    gatewayId: string;
    /** A camera was suspended: end its tracks, drop what waits for analysis. */
    onSuspend(cameraId: string): void;
  },
): GatewayPrivacy {
  const p = cfg.privacy;
  const { link, topics } = deps;
  const masks = createMasks();
  for (const m of p.masks) masks.set(m.camera, 'config', m.polygons);
  const counters = { framesSuspended: 0, framesMasked: 0, commandsRefused: 0 };
  let cameras: { id: string; district?: string | undefined }[] = [];
  let catalogDistricts = new Map<string, string>();
  const catalogMasked = new Set<string>();

  const control = createPrivacyControl(
    { rules: p.suspend, gatewayId: deps.gatewayId },
    {
      log: deps.log,
      publish: (id, record) => {
        link
          .publish(topics.privacyState(id), JSON.stringify(record), { qos: 1, retain: true })
          .catch((err: Error) =>
            deps.log.warn({ camera: id, err: err.message }, 'privacy record not published'),
          );
      },
      onChange: (id, suspended) => {
        if (suspended) deps.onSuspend(id);
      },
    },
  );
  const withDistricts = (): { id: string; district?: string | undefined }[] =>
    cameras.map((c) => ({ id: c.id, district: c.district ?? catalogDistricts.get(c.id) }));

  link.onMessage((topic, payload, retained, userProps) => {
    if (topic === topics.privacySet) {
      if (!p.control) return;
      const error = control.command(payload, userProps);
      if (error) {
        counters.commandsRefused++;
        deps.log.warn({ error }, 'privacy command refused');
      }
      return;
    }
    // Our own records come back live (retained=false); only the broker's stored ones are read back.
    const m =
      retained && topic.startsWith(`${topics.prefix}/privacy/`)
        ? /^([^/]+)\/state$/.exec(topic.slice(topics.prefix.length + 9))
        : null;
    if (m?.[1]) control.restore(m[1], payload);
  });
  const filters = [topics.allPrivacyState, ...(p.control ? [topics.privacySet] : [])];
  void link
    .subscribe(filters, 1)
    .catch((err: Error) => deps.log.warn({ err: err.message }, 'privacy subscription refused'));
  // A broker that lost its retained store gets the records again.
  link.on('connect', () => {
    for (const r of control.records())
      link
        .publish(topics.privacyState(r.camera), JSON.stringify(r), { qos: 1, retain: true })
        .catch(() => undefined);
  });
  const timer = setInterval(() => control.tick(), p.checkEveryS * 1000);
  timer.unref();

  return {
    masks,
    control,
    admit(frame) {
      if (control.suspended(frame.cameraId)) {
        counters.framesSuspended++;
        return false;
      }
      if (masks.apply(frame.cameraId, frame.rgb, frame.width, frame.height)) counters.framesMasked++;
      return true;
    },
    idle: (id) => control.suspended(id),
    setCameras(list) {
      cameras = [...list];
      control.setCameras(withDistricts());
    },
    setCatalog(catalogMasks, districts) {
      for (const id of catalogMasked) if (!catalogMasks.has(id)) masks.set(id, 'catalog', []);
      catalogMasked.clear();
      for (const [id, polys] of catalogMasks) {
        masks.set(id, 'catalog', polys);
        catalogMasked.add(id);
      }
      catalogDistricts = districts;
      control.setCameras(withDistricts());
    },
    stats: () => ({
      maskedCameras: masks.cameras(),
      suspendedCameras: control.records().filter((r) => r.state === 'suspended').length,
      ...counters,
    }),
    close: () => clearInterval(timer),
  };
}
