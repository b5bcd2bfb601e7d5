// Feeding RTP payloads through the access-unit depacketizers as packets of one or more units.
import type { DepacketizeResult, Depacketizer } from '../../rtsp/depacketizer.ts';

/** The payloads of one unit as packets (seq from `seq`, marker on the last); every result. */
export function feedUnit(
  dep: Depacketizer,
  payloads: readonly Buffer[],
  ts = 0,
  seq = 0,
): DepacketizeResult[] {
  return payloads.map((payload, i) =>
    dep.push({ seq: (seq + i) & 0xffff, ts, marker: i === payloads.length - 1, payload }),
  );
}

/** The NAL units of one whole unit; fails unless exactly the last packet completes it. */
export function unitNals(dep: Depacketizer, payloads: readonly Buffer[], ts = 0, seq = 0): Buffer[] {
  const rs = feedUnit(dep, payloads, ts, seq);
  const last = rs[rs.length - 1];
  if (last?.kind !== 'au' || rs.slice(0, -1).some((r) => r.kind !== 'more'))
    throw new Error(`not one unit: ${rs.map((r) => (r.kind === 'drop' ? r.reason : r.kind)).join(',')}`);
  return last.nals;
}
