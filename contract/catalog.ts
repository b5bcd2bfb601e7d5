// The simulator's retained catalog (<prefix>/simulator/catalog, or a shard's): the cameras a
// gateway may take, with their city metadata and optional privacy masks. Consumers merge the
// shards' catalogs into one city with createCatalogMerge.
import { z } from 'zod';
import { cameraMasksSchema } from './masks.ts';

export const catalogCameraSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  url: z
    .string()
    .max(2048)
    .regex(/^rtsps?:\/\/[^\s]+$/),
  district: z.string().max(64).optional(),
  building: z.number().int().min(0).optional(),
  entrance: z.number().int().min(0).optional(),
  // Privacy masks: a gateway refuses a whole catalog whose masks do not parse, so no camera is
  // analysed unmasked by mistake.
  masks: cameraMasksSchema.optional(),
});
export type CatalogCamera = z.infer<typeof catalogCameraSchema>;

export const catalogSchema = z.object({
  v: z.literal(1),
  ts: z.string().max(64).optional(),
  count: z.number().int().min(0).optional(),
  /** Shards only: the shard id, its label, and the cameras of the whole city. */
  shard: z.string().max(128).optional(),
  shardOf: z.string().max(128).optional(),
  cityCameras: z.number().int().min(0).optional(),
  cameras: z.array(catalogCameraSchema).max(200_000),
});
export type Catalog = z.infer<typeof catalogSchema>;

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
