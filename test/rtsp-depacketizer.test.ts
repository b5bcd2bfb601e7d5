// The production depacketizers (rtsp/depacketizer.ts, rtph264.ts, rtph265.ts): every packet yields
// an access unit, "more", or a counted drop reason. Unit cases for each reason, then the fuzz
// targets: random packets never throw, every output NAL unit comes from the input (a view into a
// payload, or FU fragments of it in order), sizes stay bounded, and lying lengths are counted drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DepacketizeResult, Depacketizer, RtpPacketIn } from '../rtsp/depacketizer.ts';
import { aggregateStapA, createH264Depacketizer, packetizeUnit } from '../rtsp/rtph264.ts';
import { aggregateAp, createH265Depacketizer, packetizeHevcUnit } from '../rtsp/rtph265.ts';
import { feedUnit, unitNals } from './helpers/rtp.ts';
import { runs } from './helpers/fuzz.ts';

const nal264 = (type: number, len: number, fill = 0xab): Buffer => {
  const b = Buffer.alloc(len, fill);
  b[0] = 0x60 | type;
  return b;
};
const nal265 = (type: number, len: number, fill = 0xcd): Buffer => {
  const b = Buffer.alloc(len, fill);
  b[0] = type << 1;
  b[1] = 1;
  return b;
};
const kinds = (rs: DepacketizeResult[]): string[] => rs.map((r) => (r.kind === 'drop' ? r.reason : r.kind));

test('H.264: single NAL, STAP-A and FU-A make one access unit at the marker', () => {
  const a = nal264(6, 20);
  const b = nal264(7, 10);
  const c = nal264(8, 4);
  const big = nal264(5, 3000);
  const fu = packetizeUnit({ nals: [big], idr: false }, Buffer.alloc(0), Buffer.alloc(0), 1000).payloads;
  const d = createH264Depacketizer();
  const nals = unitNals(d, [a, aggregateStapA([b, c]), ...fu], 9000);
  assert.deepEqual(nals, [a, b, c, big]);
  assert.ok(Object.values(d.drops()).every((n) => n === 0));
});

test('H.264: a STAP-A with a lying length is a counted drop, not a truncated NAL', () => {
  const d = createH264Depacketizer();
  const stap = aggregateStapA([nal264(7, 10), nal264(8, 4)]);
  stap.writeUInt16BE(200, 1 + 2 + 10); // the second length runs past the packet
  assert.deepEqual(kinds(feedUnit(d, [nal264(6, 5), stap, nal264(5, 30)], 1)), [
    'more',
    'stap-length',
    'more',
  ]);
  assert.equal(d.drops()['stap-length'], 1);
  // The next unit is whole again.
  assert.deepEqual(unitNals(d, [nal264(5, 30)], 2, 3).length, 1);
  const trailing = Buffer.concat([aggregateStapA([nal264(7, 10)]), Buffer.from([0])]);
  assert.deepEqual(kinds(feedUnit(d, [trailing], 3, 4)), ['stap-length']);
  const zero = Buffer.from([24, 0, 0, 0, 1, 0x65]);
  assert.deepEqual(kinds(feedUnit(d, [zero], 4, 5)), ['stap-length']);
});

test('H.264: FU-A without start, without end, with both flags; unsupported types', () => {
  const fu = (s: boolean, e: boolean): Buffer =>
    Buffer.from([0x7c, (s ? 0x80 : 0) | (e ? 0x40 : 0) | 5, 1, 2, 3]);
  const cases: [Buffer[], string[]][] = [
    [[fu(false, true)], ['fu-without-start']],
    [
      [fu(true, false), fu(true, true)],
      ['more', 'fu-bad-flags'],
    ],
    [
      [fu(true, false), fu(true, false)],
      ['more', 'fu-without-end'],
    ],
    [
      [fu(true, false), nal264(1, 9)],
      ['more', 'fu-without-end'],
    ],
    [[Buffer.from([25, 0, 1, 2])], ['unsupported-type']],
    [[Buffer.from([0x60 | 29, 0x85, 1])], ['unsupported-type']],
    [[Buffer.from([0])], ['unsupported-type']],
    [[Buffer.alloc(0)], ['short']],
    [[fu(true, false)], ['fu-without-end']], // the marker on a start fragment
  ];
  for (const [payloads, want] of cases) {
    const d = createH264Depacketizer();
    assert.deepEqual(kinds(feedUnit(d, payloads)), want, want.join(','));
    const counted = Object.values(d.drops()).reduce((s, n) => s + n, 0);
    assert.equal(counted, want.filter((k) => k !== 'more').length);
  }
});

test('depacketizer: gaps, size limits, a lost marker, and units the caller discards', () => {
  const d = createH264Depacketizer({ maxAuBytes: 100, maxNals: 3 });
  const push = (
    seq: number,
    ts: number,
    marker: boolean,
    payload: Buffer,
    discard = false,
  ): DepacketizeResult => d.push({ seq, ts, marker, payload }, discard);
  assert.equal(push(10, 1, false, nal264(5, 20)).kind, 'more');
  const gap = push(12, 1, false, nal264(5, 20));
  assert.deepEqual([gap.kind, gap.kind === 'drop' && gap.lostBytes], ['drop', 20]);
  assert.equal(push(13, 1, true, nal264(5, 20)).kind, 'more', 'the rest of a broken unit');
  assert.equal(push(14, 2, true, nal264(5, 101)).kind, 'drop');
  assert.equal(d.drops()['too-large'], 1);
  const many = [15, 16, 17, 18].map((s) => push(s, 3, s === 18, nal264(1, 5)));
  assert.deepEqual(kinds(many), ['more', 'more', 'more', 'too-many-nals']);
  // No marker on ts 4: the next timestamp hands the unit out as `flushed`.
  assert.equal(push(19, 4, false, nal264(5, 10)).kind, 'more');
  const next = push(20, 5, true, nal264(1, 10));
  assert.deepEqual([next.kind, next.flushed?.ts, next.flushed?.nals.length], ['au', 4, 1]);
  // A discarded unit is not reassembled and answers "more"; the next one is whole.
  assert.equal(push(21, 6, false, nal264(1, 10), true).kind, 'more');
  assert.equal(push(22, 6, true, nal264(1, 10)).kind, 'more');
  assert.equal(push(23, 7, true, nal264(5, 10)).kind, 'au');
  assert.deepEqual([d.drops()['sequence-gap'], d.drops()['too-many-nals']], [1, 1]);
  // Sequence numbers wrap.
  const w = createH264Depacketizer();
  assert.equal(w.push({ seq: 65535, ts: 1, marker: false, payload: nal264(5, 5) }).kind, 'more');
  assert.equal(w.push({ seq: 0, ts: 1, marker: true, payload: nal264(5, 5) }).kind, 'au');
});

test('H.265: single NAL, AP and FU; a lying AP length, PACI and bad FUs are counted drops', () => {
  const vps = nal265(32, 12);
  const sps = nal265(33, 20);
  const big = nal265(19, 2500);
  const fu = packetizeHevcUnit({ nals: [big], idr: false }, [], 1000).payloads;
  assert.deepEqual(unitNals(createH265Depacketizer(), [aggregateAp([vps, sps]), nal265(34, 6), ...fu]), [
    vps,
    sps,
    nal265(34, 6),
    big,
  ]);
  const ap = aggregateAp([vps, sps]);
  ap.writeUInt16BE(999, 2);
  const cases: [Buffer[], string[]][] = [
    [[ap], ['ap-length']],
    [[Buffer.from([50 << 1, 1, 0, 0])], ['unsupported-type']],
    [[Buffer.from([49 << 1, 1, 0x13, 9])], ['fu-without-start']],
    [[Buffer.from([49 << 1, 1, 0xd3, 9])], ['fu-bad-flags']],
    [[Buffer.from([1])], ['short']],
  ];
  for (const [payloads, want] of cases) {
    const d = createH265Depacketizer();
    assert.deepEqual(kinds(feedUnit(d, payloads)), want);
    assert.equal(d.drops()[want[0] as 'ap-length'], 1);
  }
});

// ---------------------------------------------------------------- fuzz

/** Payloads with the structures the readers look into, and plain noise. */
function payloadArb(codec: 'h264' | 'h265'): fc.Arbitrary<Buffer> {
  const body = fc.uint8Array({ maxLength: 60 });
  const hdr = codec === 'h264' ? [24, 28, 1, 5, 25, 29, 0] : [48, 49, 1, 19, 50, 63];
  return fc.oneof(
    body.map((b) => Buffer.from(b)),
    fc
      .tuple(fc.constantFrom(...hdr), fc.nat({ max: 255 }), body)
      .map(([t, x, b]) =>
        codec === 'h264' ? Buffer.from([0x60 | t, x, ...b]) : Buffer.from([t << 1, 1, x, ...b]),
      ),
  );
}
const packetsArb = (codec: 'h264' | 'h265'): fc.Arbitrary<RtpPacketIn[]> =>
  fc
    .array(
      fc.record({
        seqStep: fc.oneof(fc.constant(1), fc.constant(1), fc.nat({ max: 5 })),
        tsStep: fc.oneof(fc.constant(0), fc.constant(0), fc.nat({ max: 3000 })),
        marker: fc.boolean(),
        payload: payloadArb(codec),
      }),
      { maxLength: 40 },
    )
    .map((xs) => {
      let seq = 65530;
      let ts = 0;
      return xs.map((x) => {
        seq = (seq + x.seqStep) & 0xffff;
        ts = (ts + x.tsStep) >>> 0;
        return { seq, ts, marker: x.marker, payload: x.payload };
      });
    });

/** True when `nal` is a view inside `p`, or its body is FU fragments pushed in order. */
function fromInput(nal: Buffer, payloads: Buffer[], fuBodies: Buffer[], hdr: number): boolean {
  for (const p of payloads)
    if (
      nal.buffer === p.buffer &&
      nal.byteOffset >= p.byteOffset &&
      nal.byteOffset + nal.length <= p.byteOffset + p.length
    )
      return true;
  const body = nal.subarray(hdr);
  for (let i = 0; i < fuBodies.length; i++) {
    const parts: Buffer[] = [];
    let len = 0;
    for (let j = i; j < fuBodies.length && len < body.length; j++) {
      parts.push(fuBodies[j]!);
      len += fuBodies[j]!.length;
    }
    if (len === body.length && Buffer.concat(parts).equals(body)) return true;
  }
  return false;
}

for (const codec of ['h264', 'h265'] as const) {
  test(`${codec} depacketizer (fuzz): random packets never throw; output comes from the input; drops are counted`, () => {
    let aus = 0;
    let drops = 0;
    fc.assert(
      fc.property(packetsArb(codec), fc.boolean(), (pkts, discardSome) => {
        const maxAuBytes = 200;
        const d: Depacketizer =
          codec === 'h264' ? createH264Depacketizer({ maxAuBytes }) : createH265Depacketizer({ maxAuBytes });
        const hdr = codec === 'h264' ? 1 : 2;
        const fuType = codec === 'h264' ? 28 : 49;
        const payloads: Buffer[] = [];
        const fuBodies: Buffer[] = [];
        let dropResults = 0;
        pkts.forEach((p, i) => {
          payloads.push(p.payload);
          const t = codec === 'h264' ? (p.payload[0] ?? 0) & 0x1f : ((p.payload[0] ?? 0) >> 1) & 0x3f;
          if (t === fuType) fuBodies.push(p.payload.subarray(hdr + 1));
          const r = d.push(p, discardSome && i % 3 === 0);
          for (const au of [r.flushed, r.kind === 'au' ? r : undefined]) {
            if (!au) continue;
            aus++;
            assert.ok(au.nals.length > 0);
            assert.equal(
              au.bytes,
              au.nals.reduce((s, n) => s + n.length, 0),
            );
            assert.ok(au.bytes <= maxAuBytes);
            for (const n of au.nals)
              assert.ok(fromInput(n, payloads, fuBodies, hdr), `NAL ${n.toString('hex')}`);
          }
          if (r.kind === 'drop') dropResults++;
        });
        const counted = Object.values(d.drops()).reduce((s, n) => s + n, 0);
        assert.equal(counted, dropResults, 'every drop result is counted, and only those');
        drops += counted;
      }),
      runs(5000),
    );
    assert.ok(aus > 500 && drops > 500, `aus ${aus}, drops ${drops}`);
  });

  test(`${codec} depacketizer (fuzz): an aggregate with any lying length is a counted drop`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2, max: 50 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 60_000 }),
        (lens, which, excess) => {
          const nals = lens.map((n, i) => (codec === 'h264' ? nal264(1, n, i) : nal265(1, n, i)));
          const agg = codec === 'h264' ? aggregateStapA(nals) : aggregateAp(nals);
          // Offset of the chosen unit's length field.
          const k = which % nals.length;
          let off = codec === 'h264' ? 1 : 2;
          for (let i = 0; i < k; i++) off += 2 + nals[i]!.length;
          const rest = agg.length - off - 2;
          agg.writeUInt16BE(Math.min(0xffff, rest + excess), off);
          const d = codec === 'h264' ? createH264Depacketizer() : createH265Depacketizer();
          const r = d.push({ seq: 0, ts: 0, marker: true, payload: agg });
          const reason = codec === 'h264' ? 'stap-length' : 'ap-length';
          assert.deepEqual([r.kind, r.kind === 'drop' && r.reason, d.drops()[reason]], ['drop', reason, 1]);
        },
      ),
      runs(3000),
    );
  });
}
