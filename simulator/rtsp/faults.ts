// Misbehaving cameras on demand, for testing gateways: per camera id, or a seeded fraction of
// the fleet (the choice hashes the id, so it is stable while the fleet grows or shrinks).

export type Fault =
  /** The socket stays open, RTSP still answers, no more media. */
  | { kind: 'stall' }
  /** Sessions of the camera are closed now, then every `everyS` seconds (default 10). */
  | { kind: 'disconnect'; everyS?: number }
  /** Garbles bytes in a share of packets (default 0.05), in a per-session copy. */
  | { kind: 'corrupt'; probability?: number }
  /** Always 401, even for the right password. */
  | { kind: 'wrongPassword' }
  /** Down (503, sessions closed) for `downS`, then up for `upS`, repeating; starts down. */
  | { kind: 'flap'; upS?: number; downS?: number };

export type FaultKind = Fault['kind'];
export const FAULT_KINDS: readonly FaultKind[] = ['stall', 'disconnect', 'corrupt', 'wrongPassword', 'flap'];

export interface ActiveFault {
  fault: Fault;
  /** ms epoch when it was set: the origin of periodic behaviour. */
  since: number;
}

export interface FaultTable {
  set(cameraId: string, fault: Fault | undefined): void;
  setFraction(fault: Fault, fraction: number, seed: number): void;
  get(cameraId: string): ActiveFault | undefined;
  clear(): void;
  /** Changes whenever the table does, so sessions can cache their lookup. */
  generation(): number;
  describe(): {
    cameras: Record<string, Fault>;
    fractions: { fault: Fault; fraction: number; seed: number }[];
  };
}

/** FNV-1a 32-bit, mapped to [0, 1). */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
}

export function createFaultTable(now: () => number = Date.now): FaultTable {
  const byCamera = new Map<string, ActiveFault>();
  const fractions = new Map<FaultKind, { active: ActiveFault; fraction: number; seed: number }>();
  let gen = 0;
  return {
    set(cameraId, fault) {
      if (fault) byCamera.set(cameraId, { fault, since: now() });
      else byCamera.delete(cameraId);
      gen++;
    },
    setFraction(fault, fraction, seed) {
      if (!(fraction > 0)) fractions.delete(fault.kind);
      else
        fractions.set(fault.kind, { active: { fault, since: now() }, fraction: Math.min(1, fraction), seed });
      gen++;
    },
    get(cameraId) {
      const own = byCamera.get(cameraId);
      if (own) return own;
      for (const [kind, f] of fractions) {
        if (unitHash(`${f.seed}:${kind}:${cameraId}`) < f.fraction) return f.active;
      }
      return undefined;
    },
    clear() {
      byCamera.clear();
      fractions.clear();
      gen++;
    },
    generation: () => gen,
    describe() {
      const cameras: Record<string, Fault> = {};
      for (const [id, a] of byCamera) cameras[id] = a.fault;
      return {
        cameras,
        fractions: [...fractions.values()].map((f) => ({
          fault: f.active.fault,
          fraction: f.fraction,
          seed: f.seed,
        })),
      };
    },
  };
}

/** Flap: true while the camera is down. */
export function flapDown(a: ActiveFault, t: number): boolean {
  if (a.fault.kind !== 'flap') return false;
  const down = Math.max(0.001, a.fault.downS ?? 10) * 1000;
  const up = Math.max(0.001, a.fault.upS ?? 10) * 1000;
  return (t - a.since) % (down + up) < down;
}

/** Disconnect: the most recent disconnect instant at or before t. */
export function lastDisconnectAt(a: ActiveFault, t: number): number {
  if (a.fault.kind !== 'disconnect') return -Infinity;
  const every = Math.max(0.1, a.fault.everyS ?? 10) * 1000;
  return a.since + Math.floor((t - a.since) / every) * every;
}

/** A copy of the payload with a few bytes flipped past the NAL/FU headers, so framing survives. */
export function corruptCopy(payload: Buffer, rand: () => number): Buffer {
  const copy = Buffer.from(payload);
  if (copy.length <= 2) return copy;
  const flips = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < flips; i++) {
    const at = 2 + Math.floor(rand() * (copy.length - 2));
    copy[at] = copy[at]! ^ (1 + Math.floor(rand() * 255));
  }
  return copy;
}

/** xorshift32: a cheap per-session random stream. */
export function createRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}
