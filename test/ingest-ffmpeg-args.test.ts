import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import {
  buildDecoderArgs,
  decoderCaps,
  parseMode,
  defaultArgsOptions,
  type ArgsOptions,
} from '../gateway/ingest/ffmpeg/args.ts';

const debian: FfmpegBinary = {
  path: '/usr/bin/ffmpeg',
  source: 'system',
  version: '5.1.9-0+deb12u1',
  hasFpsMode: true,
};
const static2018: FfmpegBinary = {
  path: '/x/ffmpeg',
  source: 'bundled',
  version: 'N-47683-g0e8eb07980-static',
  hasFpsMode: false,
};
const opts = (mode: string, extra: Partial<ArgsOptions> = {}): ArgsOptions => ({
  ...defaultArgsOptions,
  mode: parseMode(mode),
  width: 320,
  height: 240,
  ...extra,
});

test('args: keyframes, two cameras, ffmpeg 5.1', () => {
  assert.deepEqual(
    buildDecoderArgs(debian, decoderCaps(debian), ['rtsp://h/a', 'rtsp://h/b'], opts('keyframes')),
    [
      '-loglevel',
      'error',
      '-nostats',
      '-filter_threads',
      '1',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '5000000',
      '-nofind_stream_info',
      '-threads',
      '1',
      '-skip_frame',
      'nokey',
      '-i',
      'rtsp://h/a',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '5000000',
      '-nofind_stream_info',
      '-threads',
      '1',
      '-skip_frame',
      'nokey',
      '-i',
      'rtsp://h/b',
      '-map',
      '0:v:0',
      '-vf',
      'scale=320:240:flags=fast_bilinear',
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      'pipe:3',
      '-map',
      '1:v:0',
      '-vf',
      'scale=320:240:flags=fast_bilinear',
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      'pipe:4',
    ],
  );
});

test('args: fps:2, one camera, 2018 static build (-stimeout, -vsync 0)', () => {
  assert.deepEqual(
    buildDecoderArgs(
      static2018,
      decoderCaps(static2018),
      ['rtsp://u:p@h/a'],
      opts('fps:2', { socketTimeoutMs: 3000 }),
    ),
    [
      '-loglevel',
      'error',
      '-nostats',
      '-filter_threads',
      '1',
      '-rtsp_transport',
      'tcp',
      '-stimeout',
      '3000000',
      '-nofind_stream_info',
      '-threads',
      '1',
      '-i',
      'rtsp://u:p@h/a',
      '-map',
      '0:v:0',
      '-vf',
      'fps=2,scale=320:240:flags=fast_bilinear',
      '-vsync',
      '0',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      'pipe:3',
    ],
  );
});

test('args: probing on request', () => {
  const a = buildDecoderArgs(
    debian,
    decoderCaps(debian),
    ['rtsp://h/a'],
    opts('keyframes', { probe: true, analyzeDurationMs: 300 }),
  );
  assert.deepEqual(a.slice(5, 13), [
    '-rtsp_transport',
    'tcp',
    '-timeout',
    '5000000',
    '-analyzeduration',
    '300000',
    '-threads',
    '1',
  ]);
});

test('args: pad keeps the aspect ratio', () => {
  const a = buildDecoderArgs(debian, decoderCaps(debian), ['rtsp://h/a'], opts('keyframes', { fit: 'pad' }));
  assert.equal(
    a[a.indexOf('-vf') + 1],
    'scale=320:240:force_original_aspect_ratio=decrease:flags=fast_bilinear,pad=320:240:(ow-iw)/2:(oh-ih)/2',
  );
});

test('args: modes', () => {
  assert.deepEqual(parseMode('keyframes'), { kind: 'keyframes' });
  assert.deepEqual(parseMode('fps:0.5'), { kind: 'fps', fps: 0.5 });
  assert.throws(() => parseMode('fps:0'));
  assert.throws(() => parseMode('all'));
});
