// What the rtsp source keeps of each camera: its RTSP session, counters that outlive reconnects,
// its activity baseline, and the analysis waiting for its keyframe (decode on demand).
import type { Frame } from '../../frame.ts';
import { baseCamera, type BaseCamera } from '../camera.ts';
import type { RtspClient, RtspClientStats, StreamCodec } from './rtsp-client.ts';
import { createCameraActivity, type ActivityOptions, type CameraActivity } from './activity.ts';

export interface Waiter {
  captureTs: number;
  resolve(f: Frame | undefined): void;
  timer: NodeJS.Timeout;
}

export interface Cam extends BaseCamera {
  client: RtspClient | undefined;
  playing: boolean;
  attempt: number;
  playingAt: number;
  lastPid: number | null;
  retry: NodeJS.Timeout | undefined;
  /** Counters of clients that ended, so totals survive reconnects. */
  past: RtspClientStats;
  /** What the camera sent last (its SDP); unknown until its first keyframe counts as H.264. */
  codec: StreamCodec;
  /** Its baseline outlives reconnections: the door is the same. */
  activity: CameraActivity;
  /** Decode on demand: analysis waits for this keyframe's frame. */
  waiter: Waiter | undefined;
  /** Capture time of the GOP last sent to catch-up: its frame is urgent. */
  catchUpTs: number | undefined;
}

export function newCam(id: string, url: string, gate: ActivityOptions): Cam {
  return {
    ...baseCamera(id, url),
    client: undefined,
    playing: false,
    attempt: 0,
    playingAt: 0,
    lastPid: null,
    retry: undefined,
    past: zeroRtp(),
    codec: 'h264',
    activity: createCameraActivity(gate),
    waiter: undefined,
    catchUpTs: undefined,
  };
}

export const zeroRtp = (): RtspClientStats => ({
  packets: 0,
  bytes: 0,
  keyframes: 0,
  seqGaps: 0,
  droppedUnits: 0,
});

export function addRtp(a: RtspClientStats, b: RtspClientStats): void {
  a.packets += b.packets;
  a.bytes += b.bytes;
  a.keyframes += b.keyframes;
  a.seqGaps += b.seqGaps;
  a.droppedUnits += b.droppedUnits;
}

/** Hands the frame (or nothing) to the analysis waiting for this camera's keyframe. */
export function settle(cam: Cam, frame: Frame | undefined): void {
  const w = cam.waiter;
  if (!w) return;
  cam.waiter = undefined;
  clearTimeout(w.timer);
  w.resolve(frame);
}
