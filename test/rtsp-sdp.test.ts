// rtsp/sdp.ts: one module writes and reads session descriptions. The round trip is a property
// (what writeSdp writes, readSdp reads back as the same parameters); the reader is a fuzz target
// (any text gives a description, never a throw); control URLs resolve per RFC 2326 C.1.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readSdp, resolveControl, writeSdp, type SdpVideo, type SessionDescription } from '../rtsp/sdp.ts';
import { printable, runs } from './helpers/fuzz.ts';

const nal = fc.uint8Array({ minLength: 2, maxLength: 60 }).map((a) => Buffer.from(a));
const common = {
  payloadType: fc.integer({ min: 96, max: 127 }),
  clockRate: fc.constantFrom(90_000),
  control: fc.option(
    fc.oneof(
      fc.constantFrom('trackID=0', 'streamid=1'),
      fc.webUrl().map((u) => u.replace(/^https?/, 'rtsp')),
    ),
    {
      nil: undefined,
    },
  ),
  bandwidthKbps: fc.option(fc.nat({ max: 1e6 }), { nil: undefined }),
  framerate: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  size: fc.option(fc.tuple(fc.integer({ min: 16, max: 7680 }), fc.integer({ min: 16, max: 4320 })), {
    nil: undefined,
  }),
};
const drop = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const withSize = ({
  size,
  ...v
}: { size: [number, number] | undefined } & Record<string, unknown>): Record<string, unknown> =>
  size ? { ...v, width: size[0], height: size[1] } : v;
const h264: fc.Arbitrary<SdpVideo> = fc
  .record({
    ...common,
    codec: fc.constant('h264' as const),
    packetizationMode: fc.option(fc.constantFrom(0, 1), { nil: undefined }),
    profileLevelId: fc.option(fc.stringMatching(/^[0-9a-f]{6}$/), { nil: undefined }),
    parameterSets: fc.option(fc.array(nal, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map((v) => drop(withSize(v)) as unknown as SdpVideo);
const h265: fc.Arbitrary<SdpVideo> = fc
  .record({
    ...common,
    codec: fc.constant('h265' as const),
    vps: fc.option(nal, { nil: undefined }),
    sps: fc.option(nal, { nil: undefined }),
    pps: fc.option(nal, { nil: undefined }),
  })
  .map((v) => drop(withSize(v)) as unknown as SdpVideo);
const descArb: fc.Arbitrary<SessionDescription> = fc
  .record({
    sessionId: fc.nat().map(String),
    host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
    name: printable(40),
    control: fc.option(fc.constant('*'), { nil: undefined }),
    live: fc.option(fc.constant(true), { nil: undefined }),
    video: fc.array(fc.oneof(h264, h265), { maxLength: 2 }),
  })
  .map((d) => drop(d) as SessionDescription);

test('SDP (property): readSdp(writeSdp(d)) gives d back', () => {
  fc.assert(
    fc.property(descArb, (d) => {
      const text = writeSdp(d);
      assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text));
      assert.deepEqual(readSdp(text), d);
    }),
    runs(3000),
  );
});

test('SDP: a camera-style description (other media, odd lines, LF only) gives its video', () => {
  const text = [
    'v=0',
    'o=- 1 1 IN IP4 10.0.0.5',
    's=Media Presentation',
    'a=control:rtsp://10.0.0.5/stream1/',
    'm=audio 0 RTP/AVP 0',
    'a=control:rtsp://10.0.0.5/stream1/track2',
    'm=video 0 RTP/AVP 97',
    'a=rtpmap:97 H264/90000',
    'a=fmtp:97 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==',
    'garbage line',
    'a=control:track1',
  ].join('\n');
  const d = readSdp(text);
  assert.equal(d.control, 'rtsp://10.0.0.5/stream1/');
  assert.equal(d.video.length, 1);
  const v = d.video[0]!;
  assert.deepEqual(
    [v.codec, v.payloadType, v.control, v.packetizationMode, v.profileLevelId],
    ['h264', 97, 'track1', 1, '420029'],
  );
  assert.equal(v.parameterSets?.length, 2);
  assert.equal(resolveControl(v.control, 'rtsp://10.0.0.5/stream1/'), 'rtsp://10.0.0.5/stream1/track1');
  assert.equal(resolveControl('rtsp://x/y', 'rtsp://h/a'), 'rtsp://x/y');
  assert.equal(resolveControl('*', 'rtsp://h/a/'), 'rtsp://h/a');
  assert.equal(resolveControl(undefined, 'rtsp://h/a'), 'rtsp://h/a');
  assert.equal(resolveControl('t', 'rtsp://h/a'), 'rtsp://h/a/t');
});

test('SDP reader (fuzz): any text gives a bounded description, never a throw', () => {
  const line = fc.oneof(
    printable(60),
    fc.constantFrom(
      'm=video 0 RTP/AVP 96',
      'm=audio 0 RTP/AVP 0',
      'a=rtpmap:96 H265/90000',
      'a=rtpmap:96 H264/90000',
    ),
    fc
      .tuple(fc.constantFrom('a=fmtp:96 ', 'a=control:', 'a=framesize:96 ', 'b=AS:', 'o=- '), printable(60))
      .map(([a, b]) => a + b),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 40 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
      const d = readSdp(lines.join(eol));
      assert.ok(d.video.length <= 16);
      for (const v of d.video) {
        assert.ok(['h264', 'h265', 'other'].includes(v.codec));
        for (const b of [v.vps, v.sps, v.pps, ...(v.parameterSets ?? [])])
          assert.ok(b === undefined || b.length > 0);
      }
    }),
    runs(5000),
  );
});
