// Live views: a camera's RTSP stream as MPEG-1 over WebSocket for jsmpeg, started when the first
// viewer comes, stopped a few seconds after the last one leaves, at most maxViews at once.
// The ffmpeg behind a view (node-rtsp-stream's muxer) is started and stopped in live-ffmpeg.ts.
import type { WebSocket } from 'ws';
import type { Logger } from '../shared/log.ts';
import { redactUrl } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import type { Polygon } from '../config/privacy.ts';
import { type FfmpegSlot, runFfmpeg, stopProcess } from './live-ffmpeg.ts';

export interface LiveOptions {
  ffmpeg: FfmpegBinary;
  log: Logger;
  /** The RTSP URL (with credentials) of a camera in the catalog, or undefined. */
  resolveUrl(cameraId: string): string | undefined;
  /** The camera's privacy masks: blanked by ffmpeg before the picture leaves this host. */
  resolveMasks?(cameraId: string): readonly Polygon[];
  /** Streams at once (each is one ffmpeg). */
  maxViews: number;
  /** How long a stream outlives its last viewer. */
  graceMs?: number;
  /** A viewer further behind than this is dropped. */
  maxBufferedBytes?: number;
}

export interface LiveStats {
  views: number;
  viewers: number;
  started: number;
  restarts: number;
  /** Viewers dropped because they could not keep up. */
  droppedViewers: number;
  refused: number;
}

export interface LiveViews {
  /** Takes a WebSocket that asked for a camera; closes it with a reason when it cannot be served. */
  attach(ws: WebSocket, cameraId: string): void;
  stats(): LiveStats;
  close(): Promise<void>;
}

/** Close codes the page shows (4000-4999 are the application's). */
export const CLOSE_UNKNOWN_CAMERA = 4004;
export const CLOSE_TOO_MANY = 4003;
export const CLOSE_SHUTDOWN = 1001;

/** jsmpeg's stream header: "jsmp", width, height (big-endian 16 bits). */
export function jsmpegHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(8);
  b.write('jsmp', 0, 'ascii');
  b.writeUInt16BE(width, 4);
  b.writeUInt16BE(height, 6);
  return b;
}

/** Width and height from an MPEG-1 sequence header (00 00 01 B3) in buf, if it holds one. */
export function sequenceSize(buf: Buffer): { width: number; height: number } | undefined {
  for (
    let i = buf.indexOf(Buffer.from([0, 0, 1, 0xb3]));
    i >= 0 && i + 7 <= buf.length;
    i = buf.indexOf(Buffer.from([0, 0, 1, 0xb3]), i + 1)
  ) {
    const a = buf[i + 4] ?? 0;
    const b = buf[i + 5] ?? 0;
    const c = buf[i + 6] ?? 0;
    const width = (a << 4) | (b >> 4);
    const height = ((b & 0x0f) << 8) | c;
    if (width > 0 && height > 0) return { width, height };
  }
  return undefined;
}

interface View extends FfmpegSlot {
  clients: Set<WebSocket>;
  header: Buffer | undefined;
  scan: Buffer;
  grace: NodeJS.Timeout | undefined;
}

/** A view before its first ffmpeg: no viewers, no picture size yet. */
function newView(id: string): View {
  return {
    id,
    clients: new Set(),
    proc: undefined,
    exited: Promise.resolve(),
    header: undefined,
    scan: Buffer.alloc(0),
    grace: undefined,
    restart: undefined,
    failures: 0,
    stopped: false,
    stderr: [],
  };
}

export function createLiveViews(opts: LiveOptions): LiveViews {
  const log = opts.log.child({ component: 'console-live' });
  const graceMs = opts.graceMs ?? 5000;
  const maxBuffered = opts.maxBufferedBytes ?? 2 * 1024 * 1024;
  const views = new Map<string, View>();
  const counters = { started: 0, restarts: 0, droppedViewers: 0, refused: 0 };
  let closed = false;

  const send = (view: View, ws: WebSocket, data: Buffer): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > maxBuffered) {
      counters.droppedViewers++;
      log.warn({ camera: view.id, buffered: ws.bufferedAmount }, 'live viewer too slow; dropped');
      view.clients.delete(ws);
      ws.terminate();
      if (view.clients.size === 0) scheduleStop(view);
      return;
    }
    ws.send(data, { binary: true });
  };

  const onData = (view: View, data: Buffer): void => {
    if (!view.header) {
      view.scan = view.scan.length < 256 * 1024 ? Buffer.concat([view.scan, data]) : data;
      const size = sequenceSize(view.scan);
      if (!size) return; // nothing decodable comes before a sequence header anyway
      view.header = jsmpegHeader(size.width, size.height);
      view.scan = Buffer.alloc(0);
      for (const ws of view.clients) send(view, ws, view.header);
    }
    view.failures = 0;
    for (const ws of [...view.clients]) send(view, ws, data);
  };

  const spawn = (view: View): void => {
    const url = opts.resolveUrl(view.id);
    if (!url) {
      for (const ws of view.clients) ws.close(CLOSE_UNKNOWN_CAMERA, 'camera left the catalog');
      void stop(view);
      return;
    }
    counters.started++;
    const masks = opts.resolveMasks?.(view.id) ?? [];
    runFfmpeg(view, {
      url,
      ffmpegPath: opts.ffmpeg.path,
      masks,
      log,
      onData: (data) => onData(view, data),
      halted: () => closed,
      again: () => {
        if (closed || view.clients.size === 0) return;
        counters.restarts++;
        spawn(view);
      },
    });
    log.info({ camera: view.id, url: redactUrl(url), masks: masks.length }, 'live view started');
  };

  const stop = async (view: View): Promise<void> => {
    view.stopped = true;
    if (view.grace) clearTimeout(view.grace);
    if (view.restart) clearTimeout(view.restart);
    if (views.get(view.id) === view) views.delete(view.id);
    const proc = view.proc;
    if (proc) await stopProcess(proc, view.exited);
    log.info({ camera: view.id }, 'live view stopped');
  };

  const scheduleStop = (view: View): void => {
    if (view.grace || view.stopped) return;
    view.grace = setTimeout(() => {
      view.grace = undefined;
      if (view.clients.size === 0) void stop(view);
    }, graceMs);
  };

  return {
    attach(ws, cameraId) {
      if (closed) {
        ws.close(CLOSE_SHUTDOWN, 'console is closing');
        return;
      }
      if (!opts.resolveUrl(cameraId)) {
        counters.refused++;
        ws.close(CLOSE_UNKNOWN_CAMERA, 'unknown camera');
        return;
      }
      let view = views.get(cameraId);
      if (!view) {
        if (views.size >= opts.maxViews) {
          counters.refused++;
          ws.close(CLOSE_TOO_MANY, `at most ${opts.maxViews} live views at once`);
          return;
        }
        view = newView(cameraId);
        views.set(cameraId, view);
        spawn(view);
      }
      const v = view;
      if (v.grace) {
        clearTimeout(v.grace);
        v.grace = undefined;
      }
      v.clients.add(ws);
      if (v.header) send(v, ws, v.header);
      ws.on('error', () => undefined); // a close follows
      ws.on('close', () => {
        v.clients.delete(ws);
        if (v.clients.size === 0) scheduleStop(v);
      });
    },
    stats() {
      let viewers = 0;
      for (const v of views.values()) viewers += v.clients.size;
      return { views: views.size, viewers, ...counters };
    },
    async close() {
      closed = true;
      const all = [...views.values()];
      for (const v of all) for (const ws of v.clients) ws.close(CLOSE_SHUTDOWN, 'console is closing');
      await Promise.all(all.map((v) => stop(v)));
    },
  };
}
