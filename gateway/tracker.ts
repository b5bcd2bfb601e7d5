// Face tracker: detections of one camera -> one event per face appearance (start, optional
// rate-limited updates, end), all with the same event id. Pure and synchronous: time comes in.
import { randomUUID } from 'node:crypto';
import type { Box, Detection } from './detect/ultraface.ts';
import { assign, leaving, type MatchOptions } from './track-match.ts';

import type { EndReason, FaceEvent, FaceEventType } from '../contract/faces.ts';

export type { EndReason, FaceEvent, FaceEventType };

export interface TrackerOptions {
  gatewayId: string;
  /** Detections before `start`; 1 by default because keyframes are 1 to 2 s apart. */
  confirmHits?: number;
  /** Seconds between `update` events of one track; 0 = none. */
  updateEveryS?: number;
  /** A face unseen this long (capture time) ends its track. */
  endAfterS?: number;
  /** A camera with no analysed frame for this long (wall clock, sweep) ends its tracks: it went offline. */
  sweepAfterS?: number;
  /** IoU at which a detection continues a track. */
  matchIou?: number;
  /**
   * Without overlap, a detection still continues a track if its centre moved at most this many face
   * sizes: at one analysed frame a second, a walking face often moves more than its own width.
   */
  maxJump?: number;
  /** Tracks per camera; detections beyond are ignored (counted). */
  maxTracksPerCamera?: number;
  newId?: () => string;
}

export interface FrameInfo {
  captureTs: number;
  width: number;
  height: number;
}

export interface Tracker {
  observe(cameraId: string, frame: FrameInfo, detections: readonly Detection[]): FaceEvent[];
  /** Wall-clock check for cameras that stopped delivering analysed frames. */
  sweep(nowMs: number): FaceEvent[];
  /** Whether any track (confirmed or not) is open on the camera: keep analysing it. */
  hasActive(cameraId: string): boolean;
  removeCamera(cameraId: string, reason?: EndReason): FaceEvent[];
  stats(): { cameras: number; tracks: number; ignored: number; started: number; ended: number };
  /** Ends every open track. */
  close(): FaceEvent[];
}

interface Track {
  trackId: number;
  eventId: string;
  box: Box;
  /** The box before the last one: which way the face moves. */
  prev?: Box;
  score: number;
  bestScore: number;
  hits: number;
  firstSeen: number;
  lastSeen: number;
  confirmed: boolean;
  lastEmit: number;
}

interface Camera {
  tracks: Track[];
  nextTrackId: number;
  lastObserved: number;
  /** Recent gap between this camera's analysed frames while it tracks faces (EWMA). */
  intervalMs: number;
  frame: { width: number; height: number };
}

/** A face event of a track, as the camera's frame is now. */
function faceEvent(
  type: FaceEventType,
  gatewayId: string,
  cameraId: string,
  cam: Camera,
  t: Track,
  ts: number,
): FaceEvent {
  return {
    v: 1,
    type,
    eventId: t.eventId,
    trackId: t.trackId,
    cameraId,
    gatewayId,
    ts: new Date(ts).toISOString(),
    box: [...t.box],
    score: t.score,
    frame: { ...cam.frame },
  };
}

/** A new, unconfirmed track for a detection no open track continues. */
function openTrack(trackId: number, eventId: string, det: Detection, ts: number): Track {
  return {
    trackId,
    eventId,
    box: [...det.box],
    score: det.score,
    bestScore: det.score,
    hits: 1,
    firstSeen: ts,
    lastSeen: ts,
    confirmed: false,
    lastEmit: ts,
  };
}

export function createTracker(opts: TrackerOptions): Tracker {
  const confirmHits = Math.max(1, opts.confirmHits ?? 1);
  const updateMs = (opts.updateEveryS ?? 0) * 1000;
  const endMs = (opts.endAfterS ?? 2.5) * 1000;
  const sweepMs = (opts.sweepAfterS ?? 10) * 1000;
  const match: MatchOptions = { matchIou: opts.matchIou ?? 0.3, maxJump: opts.maxJump ?? 1.5 };
  const maxTracks = opts.maxTracksPerCamera ?? 20;
  const newId = opts.newId ?? randomUUID;
  const cameras = new Map<string, Camera>();
  // Track ids keep counting when a camera's state is dropped, so an id is never reused.
  const trackIds = new Map<string, number>();
  const counts = { ignored: 0, started: 0, ended: 0 };

  const event = (type: FaceEventType, cameraId: string, cam: Camera, t: Track, ts: number): FaceEvent =>
    faceEvent(type, opts.gatewayId, cameraId, cam, t, ts);

  function end(cameraId: string, cam: Camera, t: Track, reason: EndReason, out: FaceEvent[]): void {
    if (!t.confirmed) return; // never started: nothing to end
    counts.ended++;
    out.push({
      ...event('end', cameraId, cam, t, t.lastSeen),
      score: t.bestScore,
      startedTs: new Date(t.firstSeen).toISOString(),
      durationS: (t.lastSeen - t.firstSeen) / 1000,
      hits: t.hits,
      endReason: reason,
    });
  }

  function observe(cameraId: string, frame: FrameInfo, detections: readonly Detection[]): FaceEvent[] {
    const out: FaceEvent[] = [];
    const ts = frame.captureTs;
    let cam = cameras.get(cameraId);
    if (!cam) {
      cam = {
        tracks: [],
        nextTrackId: trackIds.get(cameraId) ?? 1,
        lastObserved: ts,
        intervalMs: 0,
        frame: { width: frame.width, height: frame.height },
      };
      cameras.set(cameraId, cam);
    }
    // Measured only while faces are tracked (the motion gate then passes every frame), starting from
    // 0 so that one long gap alone cannot keep a face alive.
    const gap = ts - cam.lastObserved;
    if (gap > 0 && cam.tracks.length > 0) cam.intervalMs = 0.7 * cam.intervalMs + 0.3 * gap;
    cam.lastObserved = Math.max(cam.lastObserved, ts);
    // Under load a camera is analysed less often than endAfterS; a face is only gone once it has
    // been missed in two analysed frames, or one appearance would end and start again.
    const endAfter = Math.max(endMs, 2.5 * cam.intervalMs);
    cam.frame = { width: frame.width, height: frame.height };

    // A track unseen for endAfterS is over before this frame is matched: a new face in the same
    // place (the next person through the same door) must not continue it.
    cam.tracks = cam.tracks.filter((t) => {
      if (ts - t.lastSeen < endAfter) return true;
      end(cameraId, cam, t, 'unseen', out);
      return false;
    });

    const usedTracks = new Set<Track>();
    const usedDets = new Set<number>();
    for (const { t, det, d } of assign(cam.tracks, detections, { ...frame, ts }, match)) {
      usedTracks.add(t);
      usedDets.add(d);
      t.prev = t.box;
      t.box = [...det.box];
      t.score = det.score;
      t.bestScore = Math.max(t.bestScore, det.score);
      t.hits++;
      t.lastSeen = Math.max(t.lastSeen, ts);
      if (!t.confirmed && t.hits >= confirmHits) {
        t.confirmed = true;
        t.lastEmit = ts;
        counts.started++;
        out.push(event('start', cameraId, cam, t, ts));
      } else if (t.confirmed && updateMs > 0 && ts - t.lastEmit >= updateMs) {
        t.lastEmit = ts;
        out.push(event('update', cameraId, cam, t, ts));
      }
    }

    // Tracks not seen in this frame end once unseen for endAfterS of capture time, or at once when
    // they were last seen walking out across the frame's edge.
    cam.tracks = cam.tracks.filter((t) => {
      if (usedTracks.has(t)) return true;
      const left = leaving(t);
      if (!left && ts - t.lastSeen < endAfter) return true;
      end(cameraId, cam, t, left ? 'left' : 'unseen', out);
      return false;
    });

    detections.forEach((det, d) => {
      if (usedDets.has(d)) return;
      if (cam.tracks.length >= maxTracks) {
        counts.ignored++;
        return;
      }
      const t = openTrack(cam.nextTrackId++, newId(), det, ts);
      trackIds.set(cameraId, cam.nextTrackId);
      cam.tracks.push(t);
      if (confirmHits <= 1) {
        t.confirmed = true;
        counts.started++;
        out.push(event('start', cameraId, cam, t, ts));
      }
    });
    if (cam.tracks.length === 0) cameras.delete(cameraId);
    return out;
  }

  function endAll(cameraId: string, reason: EndReason, out: FaceEvent[]): void {
    const cam = cameras.get(cameraId);
    if (!cam) return;
    for (const t of cam.tracks) end(cameraId, cam, t, reason, out);
    cameras.delete(cameraId);
  }

  function sweep(nowMs: number): FaceEvent[] {
    const out: FaceEvent[] = [];
    for (const [id, cam] of cameras) {
      if (nowMs - cam.lastObserved >= sweepMs) endAll(id, 'offline', out);
    }
    return out;
  }

  return {
    observe,
    sweep,
    hasActive: (id) => (cameras.get(id)?.tracks.length ?? 0) > 0,
    removeCamera: (id, reason = 'removed') => {
      const out: FaceEvent[] = [];
      endAll(id, reason, out);
      return out;
    },
    stats: () => {
      let tracks = 0;
      for (const c of cameras.values()) tracks += c.tracks.length;
      return { cameras: cameras.size, tracks, ...counts };
    },
    close: () => {
      const out: FaceEvent[] = [];
      for (const id of [...cameras.keys()]) endAll(id, 'closed', out);
      return out;
    },
  };
}
