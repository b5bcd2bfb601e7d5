// Simulator shards: several simulators serve disjoint parts of one city. A camera's id, metadata,
// clip and phase derive from (seed, index) alone (fleet.ts), so which process serves it changes
// nothing a gateway or the ground truth sees; only the host in its URL differs.
import { owner } from '../shared/membership.ts';
import { cameraId } from './fleet.ts';

/**
 * - `''`: the whole city (one simulator).
 * - `k/n`: shard k of n (1-based); camera index i is served when i mod n = k-1, so the split holds
 *   whatever the camera count (control messages change it at run time).
 * - `a-b`: camera numbers a to b inclusive (ids 00000a..00000b).
 * - `auto`: shards among the simulators that say `auto` and are online, by rendezvous hashing,
 *   so replicas started with `--scale` need no index (cameras move when a simulator comes or goes).
 */
export type ShardSpec =
  | { kind: 'all' }
  | { kind: 'modulo'; k: number; n: number }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'auto' };

/** Parses simulator.shard (the schema has checked its form already). */
export function parseShard(spec: string): ShardSpec | { error: string } {
  if (spec === '') return { kind: 'all' };
  if (spec === 'auto') return { kind: 'auto' };
  const mod = /^(\d+)\/(\d+)$/.exec(spec);
  if (mod) {
    const k = Number(mod[1]);
    const n = Number(mod[2]);
    return k >= 1 && k <= n ? { kind: 'modulo', k, n } : { error: `shard ${k} of ${n} does not exist` };
  }
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    return from >= 1 && from <= to ? { kind: 'range', from, to } : { error: `empty camera range ${spec}` };
  }
  return { error: `"${spec}" is not k/n, a-b or auto` };
}

/** The topic-safe id a shard publishes under: 2of8, 1-5000, or the auto member's own id. */
export function shardId(spec: ShardSpec, memberId: string): string | undefined {
  switch (spec.kind) {
    case 'all':
      return undefined;
    case 'modulo':
      return `${spec.k}of${spec.n}`;
    case 'range':
      return `${spec.from}-${spec.to}`;
    case 'auto':
      return memberId;
  }
}

/** Which camera indexes (0-based) a shard serves; for `auto`, given the online members. */
export function shardOwns(
  spec: ShardSpec,
  self: string,
  members: readonly string[],
): (index: number) => boolean {
  switch (spec.kind) {
    case 'all':
      return () => true;
    case 'modulo':
      return (i) => i % spec.n === spec.k - 1;
    case 'range':
      return (i) => i + 1 >= spec.from && i + 1 <= spec.to;
    case 'auto': {
      const list = [...new Set([...members, self])].sort();
      // Memoised: the RTSP server asks on every request, the catalog for every camera.
      const memo = new Map<number, boolean>();
      return (i) => {
        let v = memo.get(i);
        if (v === undefined) {
          v = owner(cameraId(i), list) === self;
          memo.set(i, v);
        }
        return v;
      };
    }
  }
}

/** A human label for logs and status payloads. */
export function shardLabel(spec: ShardSpec, self: string, members: readonly string[]): string {
  switch (spec.kind) {
    case 'all':
      return 'all';
    case 'modulo':
      return `${spec.k}/${spec.n}`;
    case 'range':
      return `${spec.from}-${spec.to}`;
    case 'auto': {
      const list = [...new Set([...members, self])].sort();
      return `auto ${list.indexOf(self) + 1}/${list.length}`;
    }
  }
}
