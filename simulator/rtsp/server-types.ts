// The RTSP server's public shape: options, counters and the control API.
import type { ClipSource, LoadedClip } from './clip.ts';
import type { Credentials, DigestAlgorithm } from '../../rtsp/digest.ts';
import type { Fault, FaultKind, FaultTable } from './faults.ts';
import type { CameraResolver } from './handlers.ts';

export interface RtspServerOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** Default 8554; 0 picks a free port. */
  port?: number;
  /** Clips to load (Annex-B files), or clips already loaded. Index i is clip i for the resolver. */
  clips: readonly (ClipSource | LoadedClip)[];
  resolve: CameraResolver;
  /** Digest credentials; none: no authentication. Challenges: SHA-256 and MD5 unless `algorithms` says. */
  auth?: Credentials & { realm?: string; algorithms?: readonly DigestAlgorithm[] };
  /** Default 10,000; SETUP beyond it answers 453. */
  maxSessions?: number;
  /** Seconds without a request or RTCP before a session is dropped (default 60). */
  sessionTimeoutS?: number;
  /** Scheduler period (default 20 ms). */
  tickMs?: number;
  /** A session with more bytes queued drops frames up to the next IDR (default 512 KiB). */
  maxQueuedBytes?: number;
  /** Origin of camera time in ms since the Unix epoch (default 0: plain wall clock). */
  epochMs?: number;
  /** Request header limit (default 8 KiB). */
  maxHeaderBytes?: number;
  /** Largest RTP payload before FU-A fragmentation (default 1200). */
  maxPayload?: number;
  now?: () => number;
}

export interface RtspServerStats {
  connections: number;
  sessions: number;
  playing: number;
  packetsSent: number;
  bytesSent: number;
  framesSent: number;
  framesDropped: number;
  /** Bytes of packetized video held in memory for all clips (shared by every session). */
  clipBytes: number;
  perCamera: Record<string, number>;
  /** Responses by status code. */
  responses: Record<string, number>;
}

export interface SessionInfo {
  id: string;
  cameraId: string;
  state: string;
  framesSent: number;
  framesDropped: number;
  packetsSent: number;
  bytesSent: number;
  queuedBytes: number;
}

export interface RtspServer {
  listen(): Promise<{ port: number }>;
  close(timeoutMs?: number): Promise<void>;
  stats(): RtspServerStats;
  sessions(): SessionInfo[];
  setFault(cameraId: string, fault: Fault | undefined): void;
  /** A seeded, stable share of all camera ids gets `fault` (a kind means its defaults); 0 clears. */
  setFaultFraction(kind: FaultKind | Fault, fraction: number, seed: number): void;
  clearFaults(): void;
  faults(): ReturnType<FaultTable['describe']>;
  /** Ends all sessions of a camera (e.g. it left the fleet). */
  closeCamera(cameraId: string): number;
  /** Ends the sessions of every camera that `keep` refuses (cameras that moved to another shard). */
  closeCamerasExcept(keep: (cameraId: string) => boolean): number;
}
