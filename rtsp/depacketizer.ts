// RTP packets into access units, the part H.264 (RFC 6184) and H.265 (RFC 7798) share: a unit is
// the packets of one timestamp up to the marker bit (RFC 6184 5.1, RFC 7798 4.1); a sequence gap
// breaks it; its size is bounded. Every packet yields an access unit, "more", or a counted drop
// reason; a unit whose marker never came is handed out (`flushed`) when the next timestamp starts.
// Never throws. Codec payload formats plug in as a PayloadReader.

export type DropReason =
  /** Packets were lost: the unit in progress is dropped, and this packet's unit. */
  | 'sequence-gap'
  /** Payload shorter than its header. */
  | 'short'
  /** An aggregation packet (STAP-A, AP) whose lengths do not add up. */
  | 'stap-length'
  | 'ap-length'
  /** A fragment without the start one, a start before the previous end, bad S/E bits. */
  | 'fu-without-start'
  | 'fu-without-end'
  | 'fu-bad-flags'
  /** A payload type these readers do not take (STAP-B, MTAP, FU-B, PACI, reserved). */
  | 'unsupported-type'
  /** The unit or a NAL unit went over maxAuBytes, or over maxNals. */
  | 'too-large'
  | 'too-many-nals';

export const DROP_REASONS: readonly DropReason[] = [
  'sequence-gap',
  'short',
  'stap-length',
  'ap-length',
  'fu-without-start',
  'fu-without-end',
  'fu-bad-flags',
  'unsupported-type',
  'too-large',
  'too-many-nals',
];

export interface AccessUnitOut {
  /** NAL units without start codes: views into the packets, reassembled FUs copied. */
  nals: Buffer[];
  /** RTP timestamp. */
  ts: number;
  /** Sum of NAL lengths. */
  bytes: number;
}

export type DepacketizeResult = (
  | ({ kind: 'au' } & AccessUnitOut)
  | { kind: 'more' }
  | { kind: 'drop'; reason: DropReason /** Bytes of the unit thrown away with it. */; lostBytes: number }
) & {
  /** The previous unit, closed by this packet's new timestamp without its marker. */
  flushed?: AccessUnitOut;
};

export interface RtpPacketIn {
  seq: number;
  ts: number;
  marker: boolean;
  payload: Buffer;
}

/** One payload format: NAL units out of a payload, fragments held between calls. */
export interface PayloadReader {
  /** NAL units completed by this payload (none while a fragment is open), or why it is refused. */
  read(payload: Buffer, maxNalBytes: number): Buffer[] | DropReason;
  /** Forget an open fragment (a new unit, a gap). */
  reset(): void;
}

export interface DepacketizerLimits {
  /** Largest access unit, and NAL unit, in bytes (default 4 MiB). */
  maxAuBytes?: number;
  /** Most NAL units in one access unit (default 1024). */
  maxNals?: number;
}

export interface Depacketizer {
  /**
   * discard: the caller does not want this packet's unit (e.g. a P picture it will not decode):
   * nothing of it is reassembled, and its packets answer "more".
   */
  push(pkt: RtpPacketIn, discard?: boolean): DepacketizeResult;
  /** Drops by reason since creation. */
  drops(): Record<DropReason, number>;
}

/** Fragments of one FU in progress: header byte first, then the fragment bodies (views). */
export interface FuState {
  parts: Buffer[];
  bytes: number;
}

/** Splits the aggregated units of an STAP-A or AP at `off`; undefined when a length lies. */
export function splitAggregate(payload: Buffer, off: number, minNal: number): Buffer[] | undefined {
  const out: Buffer[] = [];
  let i = off;
  while (i < payload.length) {
    if (i + 2 > payload.length) return undefined;
    const n = payload.readUInt16BE(i);
    if (n < minNal || i + 2 + n > payload.length) return undefined;
    out.push(payload.subarray(i + 2, i + 2 + n));
    i += 2 + n;
  }
  return out.length > 0 ? out : undefined;
}

/** Shared FU bookkeeping (RFC 6184 5.8, RFC 7798 4.4.3): start, middle and end fragments. */
export function fuStep(
  fu: FuState | undefined,
  start: boolean,
  end: boolean,
  header: () => Buffer,
  body: Buffer,
  maxNalBytes: number,
): { fu: FuState | undefined; out: Buffer[] | DropReason } {
  if (start && end) return { fu: undefined, out: 'fu-bad-flags' };
  if (start && fu) return { fu: undefined, out: 'fu-without-end' };
  if (!start && !fu) return { fu: undefined, out: 'fu-without-start' };
  const cur = fu ?? { parts: [header()], bytes: 0 };
  cur.parts.push(body);
  cur.bytes += body.length;
  if (cur.bytes > maxNalBytes) return { fu: undefined, out: 'too-large' };
  if (!end) return { fu: cur, out: [] };
  return { fu: undefined, out: [Buffer.concat(cur.parts)] };
}

type UnitState = 'idle' | 'open' | 'broken' | 'skipping';

/** Shared: most packets answer this, and it is never changed. */
const MORE: DepacketizeResult = Object.freeze({ kind: 'more' });

export function createAccessUnitDepacketizer(
  reader: PayloadReader,
  limits: DepacketizerLimits = {},
): Depacketizer {
  const maxAu = limits.maxAuBytes ?? 4 * 1024 * 1024;
  const maxNals = limits.maxNals ?? 1024;
  const counts = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  let expectSeq = -1;
  let state: UnitState = 'idle';
  let ts = 0;
  let nals: Buffer[] = [];
  let bytes = 0;

  function take(): AccessUnitOut {
    const au = { nals, ts, bytes };
    nals = [];
    bytes = 0;
    return au;
  }

  /** Ends the unit with a counted drop; the rest of its packets are ignored. */
  function drop(reason: DropReason, marker: boolean): DepacketizeResult {
    counts[reason]++;
    const lostBytes = bytes;
    nals = [];
    bytes = 0;
    reader.reset();
    state = marker ? 'idle' : 'broken';
    return { kind: 'drop', reason, lostBytes };
  }

  function payload(pkt: RtpPacketIn): DepacketizeResult {
    const got = reader.read(pkt.payload, maxAu);
    if (typeof got === 'string') return drop(got, pkt.marker);
    for (const nal of got) {
      nals.push(nal);
      bytes += nal.length;
    }
    if (bytes > maxAu) return drop('too-large', pkt.marker);
    if (nals.length > maxNals) return drop('too-many-nals', pkt.marker);
    if (!pkt.marker) return MORE;
    // A marker on a fragment that did not end it: the NAL unit's end never came.
    if (got.length === 0) return drop('fu-without-end', true);
    state = 'idle';
    reader.reset();
    return { kind: 'au', ...take() };
  }

  function step(pkt: RtpPacketIn, discard: boolean): DepacketizeResult {
    const gap = expectSeq >= 0 && pkt.seq !== expectSeq;
    expectSeq = (pkt.seq + 1) & 0xffff;
    let flushed: AccessUnitOut | undefined;
    let carried = 0; // bytes of a previous unit broken by this gap
    if (state !== 'idle' && pkt.ts !== ts) {
      if (state === 'open' && nals.length > 0) {
        if (gap) carried = bytes;
        else flushed = take();
      }
      state = 'idle';
    }
    if (state === 'idle') {
      state = 'open';
      ts = pkt.ts;
      nals = [];
      bytes = 0;
      reader.reset();
    }
    const out = ((): DepacketizeResult => {
      if (gap) {
        const d = drop('sequence-gap', pkt.marker);
        if (d.kind === 'drop') d.lostBytes += carried;
        return d;
      }
      if (discard && state === 'open') {
        nals = [];
        bytes = 0;
        reader.reset();
        state = 'skipping';
      }
      if (state === 'open') return payload(pkt);
      if (pkt.marker) state = 'idle';
      return MORE;
    })();
    return flushed ? { ...out, flushed } : out;
  }

  return {
    push: (pkt, discard = false) => step(pkt, discard),
    drops: () => ({ ...counts }),
  };
}
