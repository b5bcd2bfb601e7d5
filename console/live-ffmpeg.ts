// The ffmpeg behind one live view, and the one file that imports node-rtsp-stream.
//
// The one file that imports node-rtsp-stream. We use its ffmpeg half (Mpeg1Muxer) and serve the
// WebSocket ourselves on the console's HTTP server, because its VideoStream opens its own ws
// server on every interface, writes all of ffmpeg's stderr to ours, and reads the picture size
// from ffmpeg's log. Its fixed arguments are `-i URL -f mpegts -codec:v mpeg1video <ours> -`:
// - input options cannot be passed, so no `-rtsp_transport tcp`: our simulator answers 461 to a
//   UDP SETUP and ffmpeg then retries over TCP (measured with ffmpeg 5.1: one extra round trip);
// - the old jsmpeg (jsmpg.js) plays a raw MPEG-1 video stream, not MPEG-TS: a later `-f mpeg1video`
//   replaces the `-f mpegts`; `-r 25` because MPEG-1 has no 10 fps;
// - the picture size for jsmpeg's 8-byte header comes from the stream's own sequence header, so
//   ffmpeg's log level does not matter.
// It has no reconnect: we restart ffmpeg with a backoff while someone watches.
import { createRequire } from 'node:module';
import type { ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.ts';
import { oneLine, redactUrl } from '../shared/log.ts';
import type { Polygon } from '../config/privacy.ts';
import { maskFilter } from './live-mask.ts';

/** The part of node-rtsp-stream's Mpeg1Muxer we use (the package ships no types). */
interface Mpeg1Muxer extends EventEmitter {
  stream: ChildProcess;
  on(event: 'mpeg1data', fn: (data: Buffer) => void): this;
  on(event: 'ffmpegStderr', fn: (data: Buffer) => void): this;
}
type Mpeg1MuxerClass = new (opts: {
  url: string;
  ffmpegPath: string;
  ffmpegOptions: Record<string, string>;
}) => Mpeg1Muxer;

const require = createRequire(import.meta.url);
const Muxer = require('node-rtsp-stream/mpeg1muxer.js') as Mpeg1MuxerClass;

/** Output options after node-rtsp-stream's own; an empty value means a flag without value. */
const ffmpegOptions: Record<string, string> = {
  '-f': 'mpeg1video',
  '-an': '',
  '-vf': "scale=w='min(640,iw)':h=-2",
  '-r': '25',
  '-b:v': '1000k',
  '-bf': '0',
  '-nostdin': '',
  '-nostats': '',
  '-hide_banner': '',
  '-loglevel': 'warning',
};

/**
 * Starts ffmpeg reading `url` as MPEG-1 (masked when `masks` are given). Its exit listener is
 * removed (it only prints to our stderr): the caller watches 'exit' and restarts.
 */
export function startMuxer(o: {
  url: string;
  ffmpegPath: string;
  masks: readonly Polygon[];
  onData(data: Buffer): void;
  /** One line of ffmpeg's stderr, trimmed to one line of at most 300 characters. */
  onStderr(line: string): void;
}): ChildProcess {
  const options = o.masks.length
    ? { ...ffmpegOptions, '-vf': `${ffmpegOptions['-vf']},${maskFilter(o.masks)}` }
    : ffmpegOptions;
  const muxer = new Muxer({ url: o.url, ffmpegPath: o.ffmpegPath, ffmpegOptions: options });
  const proc = muxer.stream;
  proc.removeAllListeners('exit');
  muxer.on('mpeg1data', (data) => o.onData(data));
  muxer.on('ffmpegStderr', (data) => {
    for (const line of data.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      o.onStderr(oneLine(line.slice(0, 300)));
    }
  });
  return proc;
}

/** What the supervisor keeps per view: its ffmpeg, the last lines it said, its restart timer. */
export interface FfmpegSlot {
  readonly id: string;
  proc: ChildProcess | undefined;
  exited: Promise<void>;
  restart: NodeJS.Timeout | undefined;
  failures: number;
  /** Set by the owner when the view is stopped: an exit then is expected, not restarted. */
  stopped: boolean;
  stderr: string[];
}

/**
 * Runs ffmpeg for `slot`; an unexpected exit (not stopped, not `halted()`) is logged with its last
 * stderr lines and, after a backoff, handed to `again()`, which decides whether to restart.
 */
export function runFfmpeg(
  slot: FfmpegSlot,
  o: {
    url: string;
    ffmpegPath: string;
    masks: readonly Polygon[];
    log: Logger;
    onData(data: Buffer): void;
    halted(): boolean;
    again(): void;
  },
): void {
  const { url, log } = o;
  const proc = startMuxer({
    url,
    ffmpegPath: o.ffmpegPath,
    masks: o.masks,
    onData: o.onData,
    onStderr: (line) => {
      slot.stderr.push(line);
      if (slot.stderr.length > 10) slot.stderr.shift();
    },
  });
  slot.proc = proc;
  slot.stderr = [];
  slot.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      resolve();
      if (slot.proc === proc) slot.proc = undefined;
      if (slot.stopped || o.halted()) return;
      slot.failures++;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(slot.failures, 5));
      log.warn(
        {
          camera: slot.id,
          url: redactUrl(url),
          code,
          signal,
          stderr: slot.stderr.slice(-3),
          retryMs: delay,
        },
        'live view ffmpeg exited; restarting',
      );
      slot.restart = setTimeout(() => {
        slot.restart = undefined;
        if (slot.stopped) return;
        o.again();
      }, delay);
    });
  });
  proc.on('error', (err) =>
    log.warn({ camera: slot.id, err: err.message }, 'live view ffmpeg failed to start'),
  );
}

/** SIGTERM, SIGKILL after 2 s, and waits for `exited` (unless it has already gone). */
export async function stopProcess(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const kill = setTimeout(() => proc.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(kill);
}
