// Scale-out without a coordinator, for gateways and for the simulator's auto shards: members
// announce themselves with retained statuses (and a last will); each takes the cameras that
// rendezvous (highest random weight) hashing over the online members gives it. Every member
// computes the same answer from the same broker state.
import { createHash } from 'node:crypto';

/** Weight of (gateway, camera): the first 48 bits of sha1, so ties are practically impossible. */
export function weight(gatewayId: string, cameraId: string): number {
  return createHash('sha1').update(gatewayId).update('\0').update(cameraId).digest().readUIntBE(0, 6);
}

/** The owner of a camera among the members (HRW hashing). */
export function owner(cameraId: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestW = -1;
  for (const m of members) {
    const w = weight(m, cameraId);
    if (w > bestW || (w === bestW && best !== undefined && m < best)) {
      best = m;
      bestW = w;
    }
  }
  return best;
}

/** The cameras of `all` that `self` owns, given the online members (self counts as online). */
export function assigned<T extends { id: string }>(
  all: readonly T[],
  members: Iterable<string>,
  self: string,
): T[] {
  const list = [...new Set([...members, self])].sort();
  return all.filter((c) => owner(c.id, list) === self);
}

export interface Membership {
  /** Feed `<prefix>/gateways/<id>/status` messages here. */
  onStatus(gatewayId: string, status: string): void;
  members(): string[];
  close(): void;
}

/**
 * Tracks online gateways and calls `onChange` once membership has been stable for `settleMs`
 * (joins and leaves come in bursts when a fleet starts or a broker restarts).
 */
export function createMembership(
  self: string,
  settleMs: number,
  onChange: (members: string[]) => void,
): Membership {
  const online = new Set<string>([self]);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const changed = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange([...online].sort());
    }, settleMs);
  };
  return {
    onStatus(id, status) {
      if (id === self) return;
      const had = online.has(id);
      if (status === 'online' && !had) online.add(id);
      else if (status !== 'online' && had) online.delete(id);
      else return;
      changed();
    },
    members: () => [...online].sort(),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
