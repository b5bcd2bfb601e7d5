// The simulator's retained catalog, parsed at the boundary: cameras a gateway may take.
import { z } from 'zod';
import type { CameraSource } from '../config/schema.ts';
import { oneLine } from '../shared/log.ts';
import { cameraMasksSchema, type Polygon } from '../config/privacy.ts';

const catalogSchema = z.object({
  v: z.literal(1),
  cameras: z
    .array(
      z.object({
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
        url: z.string().regex(/^rtsps?:\/\/[^\s]+$/),
        district: z.string().max(64).optional(),
        // Privacy masks: a camera whose masks do not parse fails the whole catalog, so it is never
        // analysed unmasked by mistake (the gateway keeps the catalog it had).
        masks: cameraMasksSchema.optional(),
      }),
    )
    .max(200_000),
});

/** Credentials for discovered cameras come from the gateway's own config, never from MQTT. */
export function parseCatalog(
  payload: Buffer,
  creds: { username: string; password: string },
):
  | {
      ok: true;
      cameras: CameraSource[];
      /** Catalog masks and districts by camera id (privacy). */
      masks: Map<string, Polygon[]>;
      districts: Map<string, string>;
    }
  | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, error: 'catalog is not JSON' };
  }
  const res = catalogSchema.safeParse(json);
  if (!res.success) {
    const i = res.error.issues[0];
    return {
      ok: false,
      error: oneLine(`catalog: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`),
    };
  }
  const auth = creds.username
    ? `${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.password)}@`
    : '';
  const masks = new Map<string, Polygon[]>();
  const districts = new Map<string, string>();
  for (const c of res.data.cameras) {
    if (c.masks?.length) masks.set(c.id, c.masks);
    if (c.district) districts.set(c.id, c.district);
  }
  return {
    ok: true,
    masks,
    districts,
    cameras: res.data.cameras.map((c) => ({
      id: c.id,
      url: auth ? c.url.replace('://', `://${auth}`) : c.url,
    })),
  };
}
