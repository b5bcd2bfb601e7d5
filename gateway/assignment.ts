// Which cameras this gateway handles now, and their last statuses: one owner for the list the
// catalog or the config gives, so a camera given away is forgotten everywhere at once.
import type { CameraSource } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';

/** What assignment needs from the gateway's parts. */
export interface AssignmentDeps {
  log: Logger;
  /** Forget a camera in analysis, motion and tracking (its faces end). */
  forget(cameraId: string): void;
  /** Drop the camera's retained status; its new owner publishes it. */
  clearStatus(cameraId: string): void;
  /** Hand the new list to the parts that act on it (privacy, then the ingest). */
  setCameras(list: CameraSource[]): void;
}

export interface Assignment {
  apply(list: CameraSource[]): void;
  setStatus(cameraId: string, status: string): void;
  ids(): string[];
  counts(): { assigned: number; online: number };
}

export function createAssignment(deps: AssignmentDeps): Assignment {
  let current: CameraSource[] = [];
  const statuses = new Map<string, string>();
  return {
    apply(list) {
      const next = new Set(list.map((c) => c.id));
      for (const c of current) {
        if (next.has(c.id)) continue;
        deps.forget(c.id);
        statuses.delete(c.id);
        deps.clearStatus(c.id);
      }
      const added = list.length - current.filter((c) => next.has(c.id)).length;
      if (added > 0 || list.length !== current.length)
        deps.log.info({ cameras: list.length }, 'cameras assigned');
      current = list;
      deps.setCameras(list);
    },
    setStatus: (cam, status) => void statuses.set(cam, status),
    ids: () => current.map((c) => c.id),
    counts: () => ({
      assigned: current.length,
      online: [...statuses.values()].filter((s) => s === 'online').length,
    }),
  };
}
