// Cameras from the simulator's catalog (one or several shards, merged into one city), shared among
// the gateways that are online by rendezvous hashing: the catalog and membership subscriptions.
import type { CameraSource } from '../config/schema.ts';
import type { Polygon } from '../config/privacy.ts';
import { createCatalogMerge, parseJson, parseTopic } from '../contract/index.ts';
import type { Topics } from '../contract/topics.ts';
import type { Parts } from '../shared/lifecycle.ts';
import type { Logger } from '../shared/log.ts';
import { assigned, createMembership, type Membership } from '../shared/membership.ts';
import type { MqttLink } from '../shared/mqtt.ts';
import { parseCatalog } from './catalog.ts';
import type { GatewayPrivacy } from './privacy/index.ts';

export interface CatalogFollowOptions {
  gatewayId: string;
  settleS: number;
  /** Credentials the catalog's RTSP urls are given. */
  rtsp: { username: string; password: string };
}

/** What following the catalog needs from the gateway's parts. */
export interface CatalogFollowDeps {
  log: Logger;
  link: Pick<MqttLink, 'onMessage' | 'subscribe'>;
  topics: Pick<Topics, 'prefix' | 'catalogFilters' | 'allGatewayStatus'>;
  privacy: Pick<GatewayPrivacy, 'setCatalog'>;
  /** This gateway's share of the catalog, on every change once settled. */
  apply(list: CameraSource[]): void;
  /** The settle timer is registered here (startup rollback). */
  parts: Pick<Parts, 'defer'>;
}

/** Subscribes and returns the membership (closed by the caller). */
export function followCatalog(opts: CatalogFollowOptions, deps: CatalogFollowDeps): Membership {
  const { gatewayId: id, settleS } = opts;
  const { log, link, topics } = deps;
  let catalog: CameraSource[] = [];
  let members: string[] = [id];
  let ready = false;
  const reassign = (): void => {
    if (ready) deps.apply(assigned(catalog, members, id));
  };
  const membership = createMembership(id, settleS * 1000, (m) => {
    members = m;
    log.info({ members: m.length }, 'gateways changed; rebalancing');
    reassign();
  });
  // Each camera keeps its catalog masks and district, so the merged list is the one source of both.
  const shards = createCatalogMerge<CameraSource & { masks?: Polygon[] }>();
  link.onMessage((topic, payload) => {
    const t = parseTopic(topic, topics.prefix);
    if (t?.kind === 'catalog') {
      if (payload.length === 0) {
        shards.set(t.shard, undefined);
      } else {
        const parsed = parseCatalog(payload, opts.rtsp);
        if (!parsed.ok) {
          log.warn({ error: parsed.error, shard: t.shard || undefined }, 'simulator catalog ignored');
          return;
        }
        shards.set(
          t.shard,
          parsed.cameras.map((c) => {
            const masks = parsed.masks.get(c.id);
            const district = parsed.districts.get(c.id);
            return { ...c, ...(masks ? { masks } : {}), ...(district ? { district } : {}) };
          }),
        );
      }
      const merged = shards.list();
      catalog = merged;
      deps.privacy.setCatalog(
        new Map(merged.flatMap((c) => (c.masks ? [[c.id, c.masks] as const] : []))),
        new Map(merged.flatMap((c) => (c.district ? [[c.id, c.district] as const] : []))),
      );
      reassign();
      return;
    }
    if (t?.kind === 'gatewayStatus') {
      const parsed = parseJson(payload);
      const o = parsed.ok ? (parsed.data as { status?: unknown } | null) : undefined;
      membership.onStatus(t.gateway, o ? String(o.status) : 'offline');
    }
  });
  void link.subscribe([...topics.catalogFilters, topics.allGatewayStatus], 1).catch(() => undefined);
  // Retained statuses arrive right after subscribing; take cameras once they had a moment.
  const first = setTimeout(
    () => {
      ready = true;
      members = membership.members();
      reassign();
    },
    Math.min(settleS * 1000, 1500),
  );
  first.unref();
  deps.parts.defer('catalog settle', () => clearTimeout(first));
  return membership;
}
