// The simulator's retained catalog, parsed at the boundary with the contract's schema: cameras a
// gateway may take. A camera whose masks do not parse fails the whole catalog, so it is never
// analysed unmasked by mistake (the gateway keeps the catalog it had).
import type { CameraSource } from '../config/schema.ts';
import { catalogSchema, parsePayload, type Polygon } from '../contract/index.ts';

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
  const res = parsePayload(catalogSchema, payload, 'catalog');
  if (!res.ok) return res;
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
