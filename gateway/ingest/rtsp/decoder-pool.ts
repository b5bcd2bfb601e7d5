// A small pool of shared ffmpeg processes that decode keyframes handed to them by the gateway
// (Annex-B on stdin, `-f h264`, or `-f hevc` in a pool of H.265 cameras), each to one 320x240 RGB
// frame on stdout. Any IDR decodes on its own, so any decoder can take any camera's keyframe: one process serves many cameras.
//
// The hard part is mapping output frames back to cameras (decoder-step.ts). Raw video on a pipe carries no
// identity, so each decoder works stop-and-wait: one unit is written, the next only after its
// frame came back. A frame then belongs to the one unit in flight, exactly.
// A unit whose frame does not come within auTimeoutMs is counted lost and the decoder is sent a
// sync unit (a 16x16 magenta IDR): every frame before its unmistakable picture is discarded, and
// then the mapping is exact again (the decoder outputs in order); only if the sync picture does
// not come either is the process restarted (a new generation; output of the old one is ignored).
// A frame with no unit in flight (a broken unit that gave two pictures, or left the decoder
// holding pictures back) restarts the process at once: never believed.
// Cameras with repeated timeouts ("suspects") are decoded apart, on a strict quarantine decoder
// that closes every unit with a sync unit (~3 ms more per unit, exact for 0, 1 or 2 pictures),
// so healthy cameras neither wait behind their timeouts nor risk their extra pictures.
// Throughput is not the limit: an IDR of our 640x360 scenes decodes and scales in ~4 ms, so one
// process passes ~200 keyframes/s; the pool grows with the camera count for parallelism.
import type { FfmpegBinary } from '../../../shared/ffmpeg.ts';
import type { Logger } from '../../../shared/log.ts';
import { decoderArgs, H264_AUD, H264_SYNC_UNIT, HEVC_AUD, HEVC_SYNC_UNIT } from './decoder-units.ts';
import { createStrikes, leastLoaded } from './decoder-placement.ts';
import { decoderProcs } from './decoder-proc.ts';
import {
  makeDecoder,
  zeroCounters,
  type Decoder,
  type Entry,
  type PoolContext,
  type PoolCounters,
  type PoolEvents,
} from './decoder-state.ts';
import { dropInFlight, pump } from './decoder-step.ts';

export { decoderArgs, isSyncFrame } from './decoder-units.ts';
export type { PoolCounters, PoolEvents } from './decoder-state.ts';

export interface DecoderPoolOptions {
  ffmpeg: FfmpegBinary;
  /** What the units are (default h264); one pool decodes one codec. */
  codec?: 'h264' | 'h265';
  width: number;
  height: number;
  /** Decoder processes (resize() changes it). */
  decoders: number;
  /** Units waiting per decoder beyond the one in flight (default 32); more are dropped and counted. */
  maxQueue?: number;
  /** A unit in flight without its frame this long is lost and its decoder restarted (default 2000). */
  auTimeoutMs?: number;
  /** Extra time for the first unit of a new process (start-up, default 3000). */
  startGraceMs?: number;
  /** SIGTERM, then SIGKILL after this long (default 2000). */
  killTimeoutMs?: number;
  /** Restart delays after a process exits on its own. */
  backoff?: { baseMs: number; maxMs: number };
  stderrLines?: number;
}

export interface DecoderInfo {
  pid: number | null;
  /** The decoder of cameras whose units keep timing out. */
  quarantine: boolean;
  generation: number;
  queued: number;
  inFlight: string | null;
  /** Cameras whose last keyframe this decoder took. */
  cameras: string[];
  stderrLinesDropped: number;
}

export interface DecoderPool {
  /**
   * Queues a keyframe (Annex-B) of a camera; a waiting older one of the same camera is replaced.
   * False when refused (queue full, no decoder): no frame will come for it.
   */
  submit(cameraId: string, au: Buffer, captureTs: number): boolean;
  /**
   * Queues a GOP so far (keyframe first, then the pictures since; catch-up on activity onset): the
   * decoder gives a frame per picture and only the last is delivered. False when refused (the
   * camera is decoded apart, on the strict decoder, or the queues are full).
   */
  submitGop(cameraId: string, units: readonly Buffer[], captureTs: number): boolean;
  /** Units waiting or in flight now: submitted = decoded + superseded + queueFull + lost + forgotten + pending. */
  pending(): number;
  /** Drops whatever of this camera still waits (it left the gateway). */
  forget(cameraId: string): void;
  resize(decoders: number): void;
  counters(): PoolCounters;
  decoders(): DecoderInfo[];
  pids(): number[];
  close(): Promise<void>;
}

/** The settings and shared state every decoder of a pool works with (decoder-state.ts). */
function poolContext(
  o: DecoderPoolOptions,
  shared: Pick<PoolContext, 'c' | 'ev' | 'log' | 'waiting' | 'closed' | 'strike'>,
): PoolContext {
  const h265 = o.codec === 'h265';
  return {
    ffmpeg: o.ffmpeg,
    args: decoderArgs(o.ffmpeg, o.width, o.height, o.codec),
    frameBytes: o.width * o.height * 3,
    auTimeoutMs: o.auTimeoutMs ?? 2000,
    startGraceMs: o.startGraceMs ?? 3000,
    killTimeoutMs: o.killTimeoutMs ?? 2000,
    backoff: o.backoff ?? { baseMs: 250, maxMs: 10_000 },
    stderrLines: o.stderrLines ?? 20,
    aud: h265 ? HEVC_AUD : H264_AUD,
    syncUnit: h265 ? HEVC_SYNC_UNIT : H264_SYNC_UNIT,
    ...shared,
  };
}

export function createDecoderPool(o: DecoderPoolOptions, ev: PoolEvents, log: Logger): DecoderPool {
  const maxQueue = o.maxQueue ?? 32;
  const c = zeroCounters();
  const decoders: Decoder[] = [];
  /** Where each camera's waiting unit is (at most one per camera) and which decoder it last used. */
  const waiting = new Map<string, Entry>();
  const lastDecoder = new Map<string, Decoder>();
  let closed = false;
  const strikes = createStrikes();
  let quarantine: Decoder | undefined;
  const all = (): Decoder[] => (quarantine ? [...decoders, quarantine] : decoders);
  const ctx = poolContext(o, { c, ev, log, waiting, closed: () => closed, strike: strikes.strike });
  const procs = decoderProcs(ctx);

  function pick(cameraId: string): Decoder | undefined {
    // A camera whose units keep yielding nothing costs its decoder a timeout each time: it gets a
    // decoder of its own kind, so the healthy cameras do not wait behind it.
    if (strikes.suspect(cameraId)) {
      if (!quarantine) {
        quarantine = makeDecoder(-1);
        quarantine.strict = true;
        procs.spawn(quarantine);
      }
      return quarantine;
    }
    const prev = lastDecoder.get(cameraId);
    return leastLoaded(decoders, prev === quarantine ? undefined : prev, maxQueue);
  }

  function resize(n: number): void {
    if (closed) return;
    const want = Math.max(1, Math.floor(n));
    while (decoders.length < want) {
      const d = makeDecoder(decoders.length);
      decoders.push(d);
      procs.spawn(d);
    }
    while (decoders.length > want) {
      const d = decoders.pop()!;
      const queued = d.queue;
      d.queue = [];
      dropInFlight(ctx, d);
      void procs.stop(d);
      for (const e of queued) {
        waiting.delete(e.cameraId);
        submit(e.cameraId, e.data, e.captureTs, false, e.pictures);
      }
    }
  }

  function submit(cameraId: string, au: Buffer, captureTs: number, count = true, pictures = 1): boolean {
    if (closed) return false;
    if (count) c.submitted++;
    const w = waiting.get(cameraId);
    if (w) {
      // Latest wins: an older keyframe still waiting is stale now.
      w.data = au;
      w.captureTs = captureTs;
      w.pictures = pictures;
      c.superseded++;
      return true;
    }
    const d = pick(cameraId);
    if (!d || d.queue.length >= maxQueue) {
      c.queueFull++;
      return false;
    }
    const e: Entry = { cameraId, data: au, captureTs, pictures, got: 0 };
    d.queue.push(e);
    waiting.set(cameraId, e);
    lastDecoder.set(cameraId, d);
    pump(ctx, d, procs.recycle);
    return true;
  }

  resize(o.decoders);
  // The quarantine decoder goes when no camera is a suspect any more and it has nothing to do.
  const sweep = setInterval(() => {
    const q = quarantine;
    if (!q || q.queue.length > 0 || q.inFlight) return;
    if (strikes.any()) return;
    quarantine = undefined;
    for (const [id, d] of lastDecoder) if (d === q) lastDecoder.delete(id);
    void procs.stop(q);
  }, 10_000);
  sweep.unref();

  return {
    submit: (id, au, ts) => submit(id, au, ts),
    submitGop(id, units, ts) {
      // The strict decoder maps one picture per unit; a suspect camera gets no catch-up.
      if (closed || units.length === 0 || strikes.suspect(id)) return false;
      const parts: Buffer[] = [];
      units.forEach((u, i) => {
        if (i > 0) parts.push(ctx.aud);
        parts.push(u);
      });
      return submit(id, Buffer.concat(parts), ts, true, units.length);
    },
    forget(cameraId) {
      const w = waiting.get(cameraId);
      waiting.delete(cameraId);
      lastDecoder.delete(cameraId);
      if (!w) return;
      c.forgotten++;
      for (const d of all()) {
        const i = d.queue.indexOf(w);
        if (i >= 0) d.queue.splice(i, 1);
      }
    },
    resize,
    pending: () => all().reduce((n, d) => n + d.queue.length + (d.inFlight ? 1 : 0), 0),
    counters: () => ({ ...c }),
    decoders() {
      const cams = new Map<Decoder, string[]>();
      for (const [id, d] of lastDecoder) {
        const l = cams.get(d) ?? [];
        l.push(id);
        cams.set(d, l);
      }
      return all().map((d) => ({
        pid: d.proc?.pid ?? null,
        quarantine: d === quarantine,
        generation: d.gen,
        queued: d.queue.length,
        inFlight: d.inFlight?.cameraId ?? null,
        cameras: cams.get(d) ?? [],
        stderrLinesDropped: d.tailDropped + (d.tail?.dropped() ?? 0),
      }));
    },
    pids: () => all().flatMap((d) => (d.proc?.pid !== undefined ? [d.proc.pid] : [])),
    async close() {
      if (closed) return;
      closed = true;
      waiting.clear();
      clearInterval(sweep);
      await Promise.all(all().map((d) => procs.stop(d)));
    },
  };
}
