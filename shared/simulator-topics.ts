// Where simulators publish, and how their consumers merge them. One simulator for the whole city
// publishes <prefix>/simulator/catalog and .../status; each shard publishes
// <prefix>/simulator/shards/<shard>/catalog and .../status. Gateways, the console, `watch` and the
// bench subscribe to both and merge the catalogs into one city. Control stays one topic,
// <prefix>/simulator/set, that every shard obeys.

export interface SimulatorTopic {
  kind: 'catalog' | 'status';
  /** '' for the whole-city simulator. */
  shard: string;
}

export function simulatorTopics(prefix: string, shard?: string): { catalog: string; status: string } {
  const base = shard ? `${prefix}/simulator/shards/${shard}` : `${prefix}/simulator`;
  return { catalog: `${base}/catalog`, status: `${base}/status` };
}

export function catalogFilters(prefix: string): string[] {
  return [`${prefix}/simulator/catalog`, `${prefix}/simulator/shards/+/catalog`];
}

export function simulatorFilters(prefix: string): string[] {
  return [...catalogFilters(prefix), `${prefix}/simulator/status`, `${prefix}/simulator/shards/+/status`];
}

export function parseSimulatorTopic(topic: string, prefix: string): SimulatorTopic | undefined {
  if (!topic.startsWith(`${prefix}/simulator/`)) return undefined;
  const rest = topic.slice(prefix.length + '/simulator/'.length).split('/');
  const kindOf = (s: string | undefined): SimulatorTopic['kind'] | undefined =>
    s === 'catalog' || s === 'status' ? s : undefined;
  if (rest.length === 1) {
    const kind = kindOf(rest[0]);
    return kind ? { kind, shard: '' } : undefined;
  }
  if (rest.length === 3 && rest[0] === 'shards' && rest[1]) {
    const kind = kindOf(rest[2]);
    return kind ? { kind, shard: rest[1] } : undefined;
  }
  return undefined;
}

export interface CatalogMerge<T extends { id: string }> {
  /** A shard's cameras; undefined (an empty retained message) forgets the shard. */
  set(shard: string, cameras: readonly T[] | undefined): void;
  /** Every shard's cameras, one per id, ordered by id. */
  list(): T[];
  shards(): string[];
}

/**
 * The city as the union of the shards' catalogs. An id listed by two shards (cameras moving
 * between `auto` shards for a moment) is taken from the shard that published last.
 */
export function createCatalogMerge<T extends { id: string }>(): CatalogMerge<T> {
  const byShard = new Map<string, readonly T[]>();
  return {
    set(shard, cameras) {
      byShard.delete(shard);
      if (cameras) byShard.set(shard, cameras);
    },
    list() {
      const byId = new Map<string, T>();
      for (const cams of byShard.values()) for (const c of cams) byId.set(c.id, c);
      return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    shards: () => [...byShard.keys()].sort(),
  };
}
