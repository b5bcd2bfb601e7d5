// Face tracker: detections of one camera -> one event per face appearance (start, optional
// rate-limited updates, end), all with the same event id. Pure and synchronous: time comes in.
import { randomUUID } from 'node:crypto';
import { iou, type Box, type Detection } from './detect/ultraface.ts';

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

/** How close to the frame's edge (normalised) a box must be to count as crossing it. */
const EDGE = 0.02;

/** Last seen touching an edge and moving towards it: the person walked out of the picture. */
function leaving(t: { box: Box; prev?: Box }): boolean {
  const p = t.prev;
  if (!p) return false;
  const [x, y, w, h] = t.box;
  const dx = x + w / 2 - (p[0] + p[2] / 2);
  const dy = y + h / 2 - (p[1] + p[3] / 2);
  return (
    (x <= EDGE && dx < 0) ||
    (x + w >= 1 - EDGE && dx > 0) ||
    (y <= EDGE && dy < 0) ||
    (y + h >= 1 - EDGE && dy > 0)
  );
}

/** Longest gap over which a lone face continues a lone track regardless of where it moved. */
const CONTINUITY_MS = 1500;

export function createTracker(opts: TrackerOptions): Tracker {
  const confirmHits = Math.max(1, opts.confirmHits ?? 1);
  const updateMs = (opts.updateEveryS ?? 0) * 1000;
  const endMs = (opts.endAfterS ?? 2.5) * 1000;
  const sweepMs = (opts.sweepAfterS ?? 10) * 1000;
  const matchIou = opts.matchIou ?? 0.3;
  const maxJump = opts.maxJump ?? 1.5;
  const maxTracks = opts.maxTracksPerCamera ?? 20;
  const newId = opts.newId ?? randomUUID;
  const cameras = new Map<string, Camera>();
  // Track ids keep counting when a camera's state is dropped, so an id is never reused.
  const trackIds = new Map<string, number>();
  const counts = { ignored: 0, started: 0, ended: 0 };

  function event(type: FaceEventType, cameraId: string, cam: Camera, t: Track, ts: number): FaceEvent {
    return {
      v: 1,
      type,
      eventId: t.eventId,
      trackId: t.trackId,
      cameraId,
      gatewayId: opts.gatewayId,
      ts: new Date(ts).toISOString(),
      box: [...t.box],
      score: t.score,
      frame: { ...cam.frame },
    };
  }

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

  /** Match score: IoU when it is enough, else a smaller positive score for a short jump of a similar box. */
  function affinity(a: Box, b: Box, w: number, h: number): number {
    const o = iou(a, b);
    if (o >= matchIou) return o;
    const size = Math.max(a[2] * w, a[3] * h, b[2] * w, b[3] * h);
    const ratio = (b[2] * b[3]) / Math.max(1e-9, a[2] * a[3]);
    if (size <= 0 || ratio > 4 || ratio < 0.25) return 0;
    const dx = (a[0] + a[2] / 2 - b[0] - b[2] / 2) * w;
    const dy = (a[1] + a[3] / 2 - b[1] - b[3] / 2) * h;
    const jump = Math.hypot(dx, dy) / size;
    return jump <= maxJump ? matchIou * 0.99 * (1 - jump / (maxJump * 1.01)) : 0;
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

    // Greedy assignment, best pair first.
    const pairs: { t: Track; d: number; s: number }[] = [];
    for (const t of cam.tracks) {
      detections.forEach((det, d) => {
        const s = affinity(t.box, det.box, frame.width, frame.height);
        if (s > 0) pairs.push({ t, d, s });
      });
    }
    // One face in the previous analysed frame, one face now, nothing else on the camera: at one
    // analysed frame a second a person walking in crosses much of the frame between keyframes, so
    // geometry alone would split them into two events. Only across one frame gap (~1 s), since a
    // different person may follow after a longer one.
    const only = cam.tracks[0];
    if (
      pairs.length === 0 &&
      only &&
      cam.tracks.length === 1 &&
      detections.length === 1 &&
      ts - only.lastSeen <= CONTINUITY_MS
    ) {
      pairs.push({ t: only, d: 0, s: 0.001 });
    }
    pairs.sort((a, b) => b.s - a.s);
    const usedTracks = new Set<Track>();
    const usedDets = new Set<number>();
    for (const p of pairs) {
      if (usedTracks.has(p.t) || usedDets.has(p.d)) continue;
      const det = detections[p.d];
      if (!det) continue;
      usedTracks.add(p.t);
      usedDets.add(p.d);
      const t = p.t;
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
      const t: Track = {
        trackId: cam.nextTrackId++,
        eventId: newId(),
        box: [...det.box],
        score: det.score,
        bestScore: det.score,
        hits: 1,
        firstSeen: ts,
        lastSeen: ts,
        confirmed: false,
        lastEmit: ts,
      };
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
