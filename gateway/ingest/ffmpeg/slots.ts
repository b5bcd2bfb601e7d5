// The placement and restart state machine behind the supervisor. A slot is one ffmpeg process
// (restarted as often as needed): a group of healthy cameras or one quarantined camera.
// Every process start bumps the slot's generation; events of an older generation are ignored,
// so a stale process's exit or late frames never touch its successor. Here: which cameras go in
// which slot (placement, stall watchdog, rejoining); slot-process.ts runs each slot's process.
import { baseCamera } from '../camera.ts';
import {
  dissolve,
  drop,
  isolate,
  later,
  newSlot,
  runningSolos,
  start,
  stop,
  type Cam,
  type Slot,
  type SlotHost,
  type SlotTable,
} from './slot-process.ts';
import { backoffDelay } from '../backoff.ts';

export type { Cam, ProcHandlers, Slot, SlotHost } from './slot-process.ts';

const MAX_REJOIN_MS = 30 * 60_000;

export function createSlots(h: SlotHost) {
  const cams = new Map<string, Cam>();
  const slots = new Set<Slot>();
  const t: SlotTable = { h, slots, nextId: 1 };

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
          dissolve(t, s, 'no frames from any camera');
          continue;
        }
        const c = s.cameras[0];
        if (c) h.setStatus(c, c.wasOnline ? 'offline' : 'unreachable', 'stalled: no frames');
        h.log.warn({ slot: s.id, camera: c?.id }, 'ffmpeg stalled; restarting');
        later(t, s, backoffDelay(s.attempt++, h.backoff));
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
        isolate(t, c, undefined, 'stalled while its group ran');
      }
      start(t, s);
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
        start(t, target);
      } else {
        start(t, newSlot(t, false, chunk));
      }
    }
  }

  function regroup(): void {
    const now = h.now();
    const crowded = runningSolos(t) >= h.maxSolo;
    const ready: Cam[] = [];
    for (const s of [...slots]) {
      const c = s.cameras[0];
      if (!s.quarantine || !c || c.healthySince === undefined || c.status !== 'online') continue;
      const need = Math.min(MAX_REJOIN_MS, h.rejoinAfterMs * 2 ** Math.max(0, c.quarantines - 1));
      if (!crowded && now - c.healthySince < need) continue;
      drop(t, s);
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
      if (s.cameras.length === 0) drop(t, s);
      else if (s.proc) start(t, s);
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
