// The city as the simulator's shards describe it: their catalogs merged into one camera list (and
// the URL a live view opens), their statuses into one simulator line. Needs only the state's limits
// and its ignore counter.
import { createCatalogMerge, simulatorStatusSchema } from '../contract/index.ts';
import type { CatalogCamera, Delta, SimulatorView } from './protocol.ts';
import type { StateLimits } from './state.ts';
import { boundedSet, catalogCamera, mergeSimulators, parseObject } from './state-views.ts';

export interface CityView {
  applyCatalog(shard: string, payload: Buffer): Delta | undefined;
  applySimStatus(shard: string, payload: Buffer): Delta | undefined;
  catalog(): { count: number; cameras: CatalogCamera[] };
  simulator(): SimulatorView | null;
  catalogUrl(cameraId: string): string | undefined;
}

export function createCityView(
  limits: Pick<StateLimits, 'cameras' | 'gateways'>,
  ignore: () => undefined,
): CityView {
  let catalog: { count: number; cameras: CatalogCamera[] } = { count: 0, cameras: [] };
  let urls = new Map<string, string>();
  let simulator: SimulatorView | null = null;
  const shardCatalogs = createCatalogMerge<CatalogCamera>();
  const simStatuses = new Map<string, SimulatorView>();

  // Shards' catalogs and statuses, merged into one city and one simulator line.
  function applyCatalog(shard: string, payload: Buffer): Delta | undefined {
    const o = parseObject(payload);
    if (!o && payload.length > 0) return ignore();
    const list = o && Array.isArray(o['cameras']) ? o['cameras'] : [];
    const cams: CatalogCamera[] = [];
    for (const c of list.slice(0, limits.cameras)) {
      const cam = catalogCamera(c);
      if (cam) cams.push(cam);
    }
    shardCatalogs.set(shard, o ? cams : undefined);
    const merged = shardCatalogs.list().slice(0, limits.cameras);
    catalog = { count: merged.length, cameras: merged };
    urls = new Map(merged.map((c) => [c.id, c.url]));
    return { kind: 'catalog', ...catalog };
  }

  function applySimStatus(shard: string, payload: Buffer): Delta | undefined {
    const o = parseObject(payload);
    if (!o) simStatuses.delete(shard);
    else {
      const r = simulatorStatusSchema.safeParse(o);
      if (!r.success) return ignore();
      const view: SimulatorView = { status: r.data.status };
      for (const k of ['cameras', 'sessions', 'playing'] as const) {
        const n = r.data[k];
        if (n !== undefined) view[k] = n;
      }
      boundedSet(simStatuses, shard, view, limits.gateways);
    }
    simulator = mergeSimulators([...simStatuses.values()]);
    return { kind: 'simulator', status: simulator };
  }

  return {
    applyCatalog,
    applySimStatus,
    catalog: () => catalog,
    simulator: () => simulator,
    catalogUrl: (id) => urls.get(id),
  };
}
