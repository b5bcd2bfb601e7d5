// The placement and restart state machine behind the supervisor. A slot is one ffmpeg process
// (restarted as often as needed): a group of healthy cameras or one quarantined camera.
// Every process start bumps the slot's generation; events of an older generation are ignored,
// so a stale process's exit or late frames never touch its successor.
import type { Logger } from '../../../shared/log.ts';
import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import type { DecoderGroup, ExitInfo } from './group.ts';
import { attributeFailures, failureStatus, type CameraStatus, type Failure } from '../status.ts';
import { baseCamera, type BaseCamera } from '../camera.ts';

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

const MAX_REJOIN_MS = 30 * 60_000;

export function createSlots(h: SlotHost) {
  const cams = new Map<string, Cam>();
  const slots = new Set<Slot>();
  let nextId = 1;

  function newSlot(quarantine: boolean, members: Cam[]): Slot {
    const s: Slot = {
      id: nextId++,
      quarantine,
      cameras: members,
      procCams: [],
      gen: 0,
      attempt: 0,
      unexplained: 0,
      startedAt: 0,
    };
    for (const c of members) c.slot = s;
    slots.add(s);
    return s;
  }

  /** Kills the running process (if any); its later events are stale from here on. */
  function stop(s: Slot): void {
    s.gen++;
    clearTimeout(s.timer);
    s.timer = undefined;
    if (s.proc) void s.proc.close();
    s.proc = undefined;
  }

  function drop(s: Slot): void {
    stop(s);
    slots.delete(s);
  }

  function runningSolos(): number {
    let n = 0;
    for (const s of slots) if (s.quarantine && s.proc) n++;
    return n;
  }

  function start(s: Slot): void {
    stop(s);
    if (!slots.has(s)) return;
    if (s.cameras.length === 0) {
      drop(s);
      return;
    }
    if (s.quarantine && runningSolos() >= h.maxSolo) {
      later(s, backoffDelay(0, h.backoff) + h.backoff.baseMs);
      return;
    }
    const gen = s.gen;
    s.procCams = [...s.cameras];
    s.startedAt = h.now();
    s.firstFrameAt = undefined;
    s.lastFrameAt = undefined;
    for (const c of s.procCams) {
      if (c.started) c.restarts++;
      c.started = true;
    }
    const live = (c?: Cam): boolean => gen === s.gen && (!c || c.slot === s);
    s.proc = h.spawn(s.procCams, {
      frame: (c, rgb) => live(c) && frameArrived(s, c, rgb),
      ended: (c) => live(c) && cameraEnded(s, c),
      exit: (info) =>
        live() ? exited(s, info) : h.log.debug({ slot: s.id, gen }, 'stale ffmpeg exit ignored'),
    });
    h.log.debug({ slot: s.id, gen, pid: s.proc.pid, cameras: s.procCams.map((c) => c.id) }, 'ffmpeg started');
  }

  function later(s: Slot, delayMs: number): void {
    stop(s);
    s.timer = setTimeout(() => start(s), delayMs);
    s.timer.unref();
  }

  function frameArrived(s: Slot, c: Cam, rgb: Buffer): void {
    const now = h.now();
    c.frames++;
    c.lastFrameAt = now;
    s.firstFrameAt ??= now;
    s.lastFrameAt = now;
    s.attempt = 0;
    s.unexplained = 0;
    if (s.quarantine) c.healthySince ??= now;
    h.setStatus(c, 'online');
    h.emitFrame(c, rgb);
  }

  /** Takes a camera out of its slot (the caller restarts that slot) into a quarantine slot. */
  function isolate(c: Cam, failure: Failure | undefined, why: string): void {
    const from = c.slot;
    if (from) from.cameras = from.cameras.filter((x) => x !== c);
    c.quarantines++;
    c.healthySince = undefined;
    const q = newSlot(true, [c]);
    if (failure) h.setStatus(c, failureStatus(failure.kind, c.wasOnline), failure.line);
    h.log.warn({ camera: c.id, why, detail: failure?.line }, 'camera quarantined');
    const floor = failure?.kind === 'unauthorized' ? h.backoff.unauthorizedMinMs : 0;
    q.attempt = 1;
    later(q, backoffDelay(0, h.backoff, floor));
  }

  function cameraEnded(s: Slot, c: Cam): void {
    if (s.quarantine) return; // the process exits with its only output; exited() handles it
    const f = attributeFailures(s.proc?.stderrTail() ?? [], [c.url]).get(0);
    // Its output is finished, so it no longer holds the others back: no restart needed now.
    isolate(c, f, 'input ended');
  }

  function exited(s: Slot, info: ExitInfo): void {
    s.proc = undefined;
    const failures = attributeFailures(
      info.stderr,
      s.procCams.map((c) => c.url),
    );
    const last = info.stderr.at(-1) ?? `ffmpeg exited (code ${info.code}, signal ${info.signal})`;
    if (s.quarantine) {
      quarantinedExited(s, failures.get(0) ?? { kind: 'other', line: last });
      return;
    }
    h.log.warn(
      { slot: s.id, code: info.code, signal: info.signal, stderr: info.stderr.slice(-5) },
      'ffmpeg exited',
    );
    if (failures.size > 0) {
      for (const [i, f] of failures) {
        const c = s.procCams[i];
        if (c && c.slot === s) isolate(c, f, 'input failed');
      }
      start(s); // the rest at once: the cause is known and gone
      return;
    }
    if (++s.unexplained >= 2 && s.cameras.length > 1) dissolve(s, 'repeated unexplained failures');
    else later(s, backoffDelay(s.attempt++, h.backoff));
  }

  /** A camera alone in quarantine failed: its own status, then a retry with backoff. */
  function quarantinedExited(s: Slot, f: Failure): void {
    const c = s.cameras[0];
    if (!c) {
      drop(s);
      return;
    }
    h.setStatus(c, failureStatus(f.kind, c.wasOnline), f.line);
    c.healthySince = undefined;
    const delay = backoffDelay(
      s.attempt++,
      h.backoff,
      f.kind === 'unauthorized' ? h.backoff.unauthorizedMinMs : 0,
    );
    h.log.info({ camera: c.id, delayMs: delay, detail: f.line }, 'quarantined camera failed; retrying');
    later(s, delay);
  }

  /** The process is stuck and nothing says which input: every member goes alone. */
  function dissolve(s: Slot, why: string): void {
    h.log.warn({ slot: s.id, why, cameras: s.cameras.map((c) => c.id) }, 'group dissolved into quarantine');
    const members = [...s.cameras];
    drop(s);
    for (const c of members) isolate(c, undefined, why);
  }

  function watchdog(): void {
    const now = h.now();
    for (const s of [...slots]) {
      if (!s.proc || s.proc.exited() || !slots.has(s)) continue;
      const grace = h.processStallMs + 1000 * s.procCams.length;
      const idle =
        s.lastFrameAt === undefined
          ? now - s.startedAt > grace
          : now - s.lastFrameAt > (s.quarantine ? h.stallMs : h.processStallMs);
      if (idle) {
        if (!s.quarantine && s.cameras.length > 1) {
          dissolve(s, 'no frames from any camera');
          continue;
        }
        const c = s.cameras[0];
        if (c) h.setStatus(c, c.wasOnline ? 'offline' : 'unreachable', 'stalled: no frames');
        h.log.warn({ slot: s.id, camera: c?.id }, 'ffmpeg stalled; restarting');
        later(s, backoffDelay(s.attempt++, h.backoff));
        continue;
      }
      if (s.quarantine || s.firstFrameAt === undefined) continue;
      const stalled = s.cameras.filter(
        (c) =>
          s.procCams.includes(c) && now - Math.max(c.lastFrameAt ?? 0, s.firstFrameAt ?? now) > h.stallMs,
      );
      if (stalled.length === 0 || stalled.length === s.cameras.length) continue;
      for (const c of stalled) {
        h.setStatus(c, c.wasOnline ? 'offline' : 'unreachable', 'stalled: no frames');
        isolate(c, undefined, 'stalled while its group ran');
      }
      start(s);
    }
    for (const c of cams.values()) {
      if (c.status === 'online' && now - (c.lastFrameAt ?? 0) > h.stallMs)
        h.setStatus(c, 'offline', 'no frames');
    }
  }

  /** New or rejoining cameras: full groups first, a remainder fills a group with room. */
  function place(list: Cam[]): void {
    for (let i = 0; i < list.length; i += h.cap) {
      const chunk = list.slice(i, i + h.cap);
      let target: Slot | undefined;
      if (chunk.length < h.cap) {
        for (const s of slots) {
          if (s.quarantine || s.cameras.length + chunk.length > h.cap) continue;
          // Prefer a group that is not delivering yet: its restart costs nothing.
          if (!target || (s.firstFrameAt === undefined && target.firstFrameAt !== undefined)) target = s;
        }
      }
      if (target) {
        target.cameras.push(...chunk);
        for (const c of chunk) c.slot = target;
        start(target);
      } else {
        start(newSlot(false, chunk));
      }
    }
  }

  function regroup(): void {
    const now = h.now();
    const crowded = runningSolos() >= h.maxSolo;
    const ready: Cam[] = [];
    for (const s of [...slots]) {
      const c = s.cameras[0];
      if (!s.quarantine || !c || c.healthySince === undefined || c.status !== 'online') continue;
      const need = Math.min(MAX_REJOIN_MS, h.rejoinAfterMs * 2 ** Math.max(0, c.quarantines - 1));
      if (!crowded && now - c.healthySince < need) continue;
      drop(s);
      ready.push(c);
    }
    if (ready.length > 0) {
      h.log.info({ cameras: ready.map((c) => c.id) }, 'quarantined cameras rejoin groups');
      place(ready);
    }
  }

  function setCameras(list: readonly { id: string; url: string }[]): void {
    const wanted = new Map(list.map((c) => [c.id, c.url]));
    const dirty = new Set<Slot>();
    for (const c of [...cams.values()]) {
      if (wanted.get(c.id) === c.url) continue;
      cams.delete(c.id);
      const s = c.slot;
      c.slot = undefined;
      if (!s) continue;
      s.cameras = s.cameras.filter((x) => x !== c);
      dirty.add(s);
    }
    const added: Cam[] = [];
    for (const [id, url] of wanted) {
      if (cams.has(id)) continue;
      const c: Cam = { ...baseCamera(id, url), quarantines: 0, started: false };
      cams.set(id, c);
      added.push(c);
    }
    for (const s of dirty) {
      // A quarantined camera waiting for its retry keeps waiting; a group restarts without the removed.
      if (s.cameras.length === 0) drop(s);
      else if (s.proc) start(s);
    }
    place(added);
  }

  async function close(boundMs: number): Promise<void> {
    const procs = [...slots].flatMap((s) => (s.proc ? [s.proc] : []));
    for (const s of slots) stop(s);
    slots.clear();
    await Promise.race([
      Promise.all(procs.map((p) => p.close())),
      new Promise((r) => setTimeout(r, boundMs).unref()),
    ]);
  }

  return {
    setCameras,
    watchdog,
    regroup,
    close,
    cameras: () => [...cams.values()],
    all: () => [...slots],
  };
}
