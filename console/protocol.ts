// What the console server tells its pages (server-sent events, as JSON): the types shared by
// console/state.ts, console/server.ts and the page's checked JavaScript (console/public), which
// imports them in JSDoc. Types only, with no imports, so the browser check needs no Node types.

export interface CatalogCamera {
  id: string;
  url: string;
  district: string;
  building: number;
  entrance: number;
  /** Privacy masks from the catalog: polygons of [x, y] points in 0..1. */
  masks?: [number, number][][];
}

export interface StatusView {
  status: string;
  gatewayId: string;
  ts: string;
  detail?: string;
}

/** A face event as the page needs it (the gateway's FaceEvent without the optional crop). */
export interface FaceView {
  type: 'start' | 'update' | 'end';
  eventId: string;
  trackId: number;
  cameraId: string;
  gatewayId: string;
  ts: string;
  box: [number, number, number, number];
  score: number;
}

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
export interface PrivacyView {
  state: 'suspended' | 'active';
  since: string;
  by: string;
  reason?: string;
  clientId?: string;
}

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
