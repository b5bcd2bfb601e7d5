// What the console server tells its pages (server-sent events, as JSON): the types shared by
// console/state.ts, console/server.ts and the page's checked JavaScript (console/public), which
// imports them in JSDoc. Types only; the payload types come from contract/ (zod types, no Node
// types), so the browser check needs no Node types.
import type { CatalogCamera as CatalogEntry } from '../contract/catalog.ts';
import type { FaceEvent } from '../contract/faces.ts';
import type { PrivacyRecord } from '../contract/privacy.ts';

/** A catalog camera with its city metadata filled in; masks are polygons of [x, y] in 0..1. */
export type CatalogCamera = Required<
  Pick<CatalogEntry, 'id' | 'url' | 'district' | 'building' | 'entrance'>
> &
  Pick<CatalogEntry, 'masks'>;

export interface StatusView {
  status: string;
  gatewayId: string;
  ts: string;
  detail?: string;
}

/** A face event as the page needs it (the contract's FaceEvent without crop, frame and end details). */
export type FaceView = Pick<
  FaceEvent,
  'type' | 'eventId' | 'trackId' | 'cameraId' | 'gatewayId' | 'ts' | 'box' | 'score'
>;

/** One stats message of a gateway, reduced to what the charts draw. Counters are totals. */
export interface StatsSample {
  /** Receive time, ms since the epoch. */
  t: number;
  assigned: number;
  online: number;
  decoded: number;
  /** Keyframes the activity gate left undecoded (node ingest). */
  skippedStill: number;
  /** GOPs decoded on activity onset (node ingest). */
  catchUp: number;
  analysed: number;
  dropped: number;
  cpu: number;
  rss: number;
}

export interface SimulatorView {
  status: string;
  cameras?: number;
  sessions?: number;
  playing?: number;
}

export type Delta =
  | { kind: 'catalog'; count: number; cameras: CatalogCamera[] }
  | { kind: 'camera'; id: string; status: StatusView | null }
  | { kind: 'gateway'; id: string; status: StatusView | null }
  | { kind: 'stats'; id: string; sample: StatsSample }
  | { kind: 'face'; event: FaceView }
  | { kind: 'simulator'; status: SimulatorView | null }
  | { kind: 'privacy'; id: string; record: PrivacyView | null };

/** A camera's privacy audit record (<prefix>/privacy/<id>/state), as the page shows it. */
export type PrivacyView = Pick<PrivacyRecord, 'state' | 'since' | 'by' | 'reason' | 'clientId'>;

export interface Snapshot {
  catalog: { count: number; cameras: CatalogCamera[] };
  cameras: Record<string, StatusView>;
  gateways: Record<string, { status: StatusView | null; stats: StatsSample[] }>;
  events: FaceView[];
  /** Faces started and not yet ended, by event id. */
  active: FaceView[];
  simulator: SimulatorView | null;
  privacy: Record<string, PrivacyView>;
}

/** Sent with the snapshot: what the page may do and whether the broker link is up. */
export interface PageInfo {
  control: boolean;
  maxLiveViews: number;
  connected: boolean;
  prefix: string;
  /** Who is signed in (none without console.auth). */
  who: string | undefined;
  auth: boolean;
  /** Privacy masks from the configuration, by camera id. */
  masks: Record<string, [number, number][][]>;
}

/** The page's first event: the state now, and the page info. */
export type SnapshotEvent = Snapshot & { info: PageInfo };

/** The broker link went up or down. */
export interface LinkEvent {
  connected: boolean;
}
