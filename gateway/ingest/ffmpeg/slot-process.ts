// One slot's ffmpeg process: start, stop, restart later, and what its frames, ended inputs and
// exits mean (a failing camera goes into quarantine, an unexplained stuck group dissolves).
// Split from slots.ts so the placement policy and the process lifecycle read apart.
import type { Logger } from '../../../shared/log.ts';
import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import type { DecoderGroup, ExitInfo } from './group.ts';
import { attributeFailures, failureStatus, type CameraStatus, type Failure } from '../status.ts';
import type { BaseCamera } from '../camera.ts';

export interface Cam extends BaseCamera {
  slot?: Slot | undefined;
  /** Times taken out of a group: each relapse doubles the healthy time needed to rejoin. */
  quarantines: number;
  /** First frame of the current quarantine run. */
  healthySince?: number | undefined;
  started: boolean;
}

export interface Slot {
  id: number;
  quarantine: boolean;
  /** Members wanted; `procCams` are the inputs of the running process, index = input. */
  cameras: Cam[];
  procCams: Cam[];
  gen: number;
  proc?: DecoderGroup | undefined;
  timer?: NodeJS.Timeout | undefined;
  attempt: number;
  /** Consecutive failures that stderr did not pin on a camera. */
  unexplained: number;
  startedAt: number;
  firstFrameAt?: number | undefined;
  lastFrameAt?: number | undefined;
}

export interface ProcHandlers {
  frame(cam: Cam, rgb: Buffer): void;
  ended(cam: Cam): void;
  exit(info: ExitInfo): void;
}

export interface SlotHost {
  log: Logger;
  now(): number;
  cap: number;
  stallMs: number;
  processStallMs: number;
  rejoinAfterMs: number;
  maxSolo: number;
  backoff: BackoffOptions;
  spawn(cams: readonly Cam[], h: ProcHandlers): DecoderGroup;
  emitFrame(cam: Cam, rgb: Buffer): void;
  setStatus(cam: Cam, status: CameraStatus, detail?: string): void;
}

/** What the process functions work on: the host, the live slots, the next slot id (owned by createSlots). */
export interface SlotTable {
  h: SlotHost;
  slots: Set<Slot>;
  nextId: number;
}

export function newSlot(t: SlotTable, quarantine: boolean, members: Cam[]): Slot {
  const s: Slot = {
    id: t.nextId++,
    quarantine,
    cameras: members,
    procCams: [],
    gen: 0,
    attempt: 0,
    unexplained: 0,
    startedAt: 0,
  };
  for (const c of members) c.slot = s;
  t.slots.add(s);
  return s;
}

/** Kills the running process (if any); its later events are stale from here on. */
export function stop(s: Slot): void {
  s.gen++;
  clearTimeout(s.timer);
  s.timer = undefined;
  if (s.proc) void s.proc.close();
  s.proc = undefined;
}

export function drop(t: SlotTable, s: Slot): void {
  stop(s);
  t.slots.delete(s);
}

export function runningSolos(t: SlotTable): number {
  let n = 0;
  for (const s of t.slots) if (s.quarantine && s.proc) n++;
  return n;
}

export function start(t: SlotTable, s: Slot): void {
  stop(s);
  if (!t.slots.has(s)) return;
  if (s.cameras.length === 0) {
    drop(t, s);
    return;
  }
  if (s.quarantine && runningSolos(t) >= t.h.maxSolo) {
    later(t, s, backoffDelay(0, t.h.backoff) + t.h.backoff.baseMs);
    return;
  }
  const gen = s.gen;
  s.procCams = [...s.cameras];
  s.startedAt = t.h.now();
  s.firstFrameAt = undefined;
  s.lastFrameAt = undefined;
  for (const c of s.procCams) {
    if (c.started) c.restarts++;
    c.started = true;
  }
  const live = (c?: Cam): boolean => gen === s.gen && (!c || c.slot === s);
  s.proc = t.h.spawn(s.procCams, {
    frame: (c, rgb) => live(c) && frameArrived(t, s, c, rgb),
    ended: (c) => live(c) && cameraEnded(t, s, c),
    exit: (info) =>
      live() ? exited(t, s, info) : t.h.log.debug({ slot: s.id, gen }, 'stale ffmpeg exit ignored'),
  });
  t.h.log.debug({ slot: s.id, gen, pid: s.proc.pid, cameras: s.procCams.map((c) => c.id) }, 'ffmpeg started');
}

export function later(t: SlotTable, s: Slot, delayMs: number): void {
  stop(s);
  s.timer = setTimeout(() => start(t, s), delayMs);
  s.timer.unref();
}

function frameArrived(t: SlotTable, s: Slot, c: Cam, rgb: Buffer): void {
  const now = t.h.now();
  c.frames++;
  c.lastFrameAt = now;
  s.firstFrameAt ??= now;
  s.lastFrameAt = now;
  s.attempt = 0;
  s.unexplained = 0;
  if (s.quarantine) c.healthySince ??= now;
  t.h.setStatus(c, 'online');
  t.h.emitFrame(c, rgb);
}

/** Takes a camera out of its slot (the caller restarts that slot) into a quarantine slot. */
export function isolate(t: SlotTable, c: Cam, failure: Failure | undefined, why: string): void {
  const from = c.slot;
  if (from) from.cameras = from.cameras.filter((x) => x !== c);
  c.quarantines++;
  c.healthySince = undefined;
  const q = newSlot(t, true, [c]);
  if (failure) t.h.setStatus(c, failureStatus(failure.kind, c.wasOnline), failure.line);
  t.h.log.warn({ camera: c.id, why, detail: failure?.line }, 'camera quarantined');
  const floor = failure?.kind === 'unauthorized' ? t.h.backoff.unauthorizedMinMs : 0;
  q.attempt = 1;
  later(t, q, backoffDelay(0, t.h.backoff, floor));
}

function cameraEnded(t: SlotTable, s: Slot, c: Cam): void {
  if (s.quarantine) return; // the process exits with its only output; exited() handles it
  const f = attributeFailures(s.proc?.stderrTail() ?? [], [c.url]).get(0);
  // Its output is finished, so it no longer holds the others back: no restart needed now.
  isolate(t, c, f, 'input ended');
}

function exited(t: SlotTable, s: Slot, info: ExitInfo): void {
  s.proc = undefined;
  const failures = attributeFailures(
    info.stderr,
    s.procCams.map((c) => c.url),
  );
  const last = info.stderr.at(-1) ?? `ffmpeg exited (code ${info.code}, signal ${info.signal})`;
  if (s.quarantine) {
    quarantinedExited(t, s, failures.get(0) ?? { kind: 'other', line: last });
    return;
  }
  t.h.log.warn(
    { slot: s.id, code: info.code, signal: info.signal, stderr: info.stderr.slice(-5) },
    'ffmpeg exited',
  );
  if (failures.size > 0) {
    for (const [i, f] of failures) {
      const c = s.procCams[i];
      if (c && c.slot === s) isolate(t, c, f, 'input failed');
    }
    start(t, s); // the rest at once: the cause is known and gone
    return;
  }
  if (++s.unexplained >= 2 && s.cameras.length > 1) dissolve(t, s, 'repeated unexplained failures');
  else later(t, s, backoffDelay(s.attempt++, t.h.backoff));
}

/** A camera alone in quarantine failed: its own status, then a retry with backoff. */
function quarantinedExited(t: SlotTable, s: Slot, f: Failure): void {
  const c = s.cameras[0];
  if (!c) {
    drop(t, s);
    return;
  }
  t.h.setStatus(c, failureStatus(f.kind, c.wasOnline), f.line);
  c.healthySince = undefined;
  const delay = backoffDelay(
    s.attempt++,
    t.h.backoff,
    f.kind === 'unauthorized' ? t.h.backoff.unauthorizedMinMs : 0,
  );
  t.h.log.info({ camera: c.id, delayMs: delay, detail: f.line }, 'quarantined camera failed; retrying');
  later(t, s, delay);
}

/** The process is stuck and nothing says which input: every member goes alone. */
export function dissolve(t: SlotTable, s: Slot, why: string): void {
  t.h.log.warn({ slot: s.id, why, cameras: s.cameras.map((c) => c.id) }, 'group dissolved into quarantine');
  const members = [...s.cameras];
  drop(t, s);
  for (const c of members) isolate(t, c, undefined, why);
}
