// A small pool of shared ffmpeg processes that decode keyframes handed to them by the gateway
// (Annex-B on stdin, `-f h264`, or `-f hevc` in a pool of H.265 cameras), each to one 320x240 RGB
// frame on stdout. Any IDR decodes on its own, so any decoder can take any camera's keyframe: one process serves many cameras.
//
// The hard part is mapping output frames back to cameras. Raw video on a pipe carries no
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
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import {
  commandArgs,
  ffmpegCommand,
  passthroughTiming,
  spawnFfmpeg,
  type FfmpegBinary,
} from '../../shared/ffmpeg.ts';
import type { Logger } from '../../shared/log.ts';
import { backoffDelay } from '../decode/backoff.ts';
import { createFrameReader } from '../decode/frame-reader.ts';

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

export interface PoolEvents {
  onFrame(cameraId: string, rgb: Buffer, captureTs: number, pid: number | undefined): void;
}

export interface PoolCounters {
  submitted: number;
  decoded: number;
  /** A newer keyframe of the same camera replaced one still waiting (latest wins). */
  superseded: number;
  /** Every decoder queue was full. */
  queueFull: number;
  /** In flight when its decoder timed out, desynced, exited or was removed. */
  lost: number;
  timeouts: number;
  /** Frames that came with no unit in flight. */
  desyncs: number;
  restarts: number;
  /** Waiting units of cameras that left (forget()). */
  forgotten: number;
  /** Sync units that brought a decoder back in step without a restart. */
  syncs: number;
  /** Frames thrown away while syncing (late frames of a timed-out unit) or extra pictures. */
  discarded: number;
  /** Strict decoders: units closed by their sync picture without a picture of their own. */
  empty: number;
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
  /** Queues a keyframe (Annex-B) of a camera; a waiting older one of the same camera is replaced. */
  submit(cameraId: string, au: Buffer, captureTs: number): void;
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

// H.264 7.3.2.4: an access unit delimiter (primary_pic_type 7: any slice type). Written after each
// unit: ffmpeg's h264 parser ends a picture only when it sees the start of the next unit, so
// without it each frame would wait for the next keyframe (seconds) and stop-and-wait would stall.
const H264_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
// A 16x16 IDR of uniform magenta (x264 ultrafast, constrained baseline, SEI removed), which
// decodes and scales to RGB ~(253, 0, 252) everywhere. No camera shows a uniform magenta picture,
// so the frame is recognized for sure; in normal operation such a frame is a desync, never delivered.
const H264_SYNC_UNIT = Buffer.from(
  '000000016742c00ada7b011000000300100000030028f1226a0000000168ce0fc80000016588843a118a00020971c00042523800086360',
  'hex',
);
// The same for H.265: an access unit delimiter (H.265 7.3.2.5, type 35, pic_type 2: any slice), and
// a 16x16 magenta IDR (x265 ultrafast, info SEI off) with its VPS, SPS and PPS.
const HEVC_AUD = Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]);
const HEVC_SYNC_UNIT = Buffer.from(
  '0000000140010c01ffff01600000030090000003000003001e9594090000000142010101600000030090000003000003001ea08845965655bc2f016808000003000800000300c840000000014401c073c0890000012801ac7627fbfa1eec3482914c',
  'hex',
);
const MAX_LINE = 400;
const STRIKE_WINDOW_MS = 60_000;
const MIN_RESPAWN_MS = 500;
const STRIKES_KEPT = 8;
/** Timeouts within the window that make a camera a suspect, decoded apart from the others. */
const SUSPECT_STRIKES = 2;
/** After a decode error on stderr, the unit in flight gets this much longer (decoding takes ~5 ms). */
const ERROR_HINT_MS = 400;

interface Entry {
  cameraId: string;
  data: Buffer;
  captureTs: number;
  /** Pictures in the unit (a GOP for a catch-up); the frame of the last one is delivered. */
  pictures: number;
  /** Frames already out for it (the ones before the last are discarded). */
  got: number;
}

interface Decoder {
  index: number;
  gen: number;
  proc: ChildProcess | undefined;
  stdin: Writable | undefined;
  queue: Entry[];
  inFlight: Entry | undefined;
  timer: NodeJS.Timeout | undefined;
  timerDue: number;
  /** A sync unit is in flight: frames are discarded until its picture comes. */
  syncing: boolean;
  /** Every unit is followed by a sync unit (the quarantine decoder). */
  strict: boolean;
  /** Strict: the unit in flight has had its frame. */
  delivered: boolean;
  /** Camera of the last frame delivered: blamed for a desync. */
  lastCamera: string | undefined;
  /** The first unit of a generation gets the start-up grace. */
  firstOfGen: boolean;
  startedAt: number;
  attempt: number;
  restartTimer: NodeJS.Timeout | undefined;
  removed: boolean;
  tail: string[];
  tailDropped: number;
  exited: Promise<void> | undefined;
}

/** Uniform ~(253, 0, 252): the sync unit's picture (sampled; tolerant of scaler rounding). */
export function isSyncFrame(rgb: Buffer): boolean {
  const px = Math.floor(rgb.length / 3);
  for (let k = 0; k < 64; k++) {
    const i = Math.floor(((k + 0.5) * px) / 64) * 3;
    const r = rgb[i] ?? 0;
    const g = rgb[i + 1] ?? 255;
    const b = rgb[i + 2] ?? 0;
    if (r < 235 || g > 20 || b < 235) return false;
  }
  return true;
}

export function decoderArgs(
  bin: FfmpegBinary,
  width: number,
  height: number,
  codec: 'h264' | 'h265' = 'h264',
): string[] {
  const cmd = ffmpegCommand(bin);
  cmd
    .input('pipe:0')
    .inputFormat(codec === 'h265' ? 'hevc' : 'h264')
    .inputOptions([
      // One thread: frame threads would hold frames back (and cost 6-10 MB each); low_delay makes
      // the decoder output each picture at once (no reorder wait: our streams have no B-frames).
      '-threads',
      '1',
      '-flags',
      'low_delay',
      // Probe the first unit only: waiting for more would hold the first frame hostage.
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
    ]);
  cmd.output('pipe:1').outputOptions([
    '-map',
    '0:v:0',
    // fast_bilinear: the analysis size is small (see gateway/decode/args.ts). Input resolution may
    // change between units (cameras differ): ffmpeg reconfigures the filter graph, output stays fixed.
    '-vf',
    `scale=${width}:${height}:flags=fast_bilinear`,
    ...passthroughTiming(bin),
    '-pix_fmt',
    'rgb24',
    // The rawvideo encoder is frame-threaded: with more threads it holds frames back.
    '-threads',
    '1',
    '-f',
    'rawvideo',
  ]);
  return ['-loglevel', 'error', '-nostats', ...commandArgs(cmd)];
}

export function createDecoderPool(o: DecoderPoolOptions, ev: PoolEvents, log: Logger): DecoderPool {
  const frameBytes = o.width * o.height * 3;
  const maxQueue = o.maxQueue ?? 32;
  const auTimeoutMs = o.auTimeoutMs ?? 2000;
  const startGraceMs = o.startGraceMs ?? 3000;
  const killTimeoutMs = o.killTimeoutMs ?? 2000;
  const backoff = o.backoff ?? { baseMs: 250, maxMs: 10_000 };
  const stderrLines = o.stderrLines ?? 20;
  const args = decoderArgs(o.ffmpeg, o.width, o.height, o.codec);
  const AUD = o.codec === 'h265' ? HEVC_AUD : H264_AUD;
  const SYNC_UNIT = o.codec === 'h265' ? HEVC_SYNC_UNIT : H264_SYNC_UNIT;
  const c: PoolCounters = {
    submitted: 0,
    decoded: 0,
    superseded: 0,
    queueFull: 0,
    lost: 0,
    timeouts: 0,
    desyncs: 0,
    restarts: 0,
    forgotten: 0,
    syncs: 0,
    discarded: 0,
    empty: 0,
  };
  const decoders: Decoder[] = [];
  /** Where each camera's waiting unit is (at most one per camera) and which decoder it last used. */
  const waiting = new Map<string, Entry>();
  const lastDecoder = new Map<string, Decoder>();
  let closed = false;

  function addLine(d: Decoder, line: string): void {
    if (!line) return;
    d.tail.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
    if (d.tail.length > stderrLines) {
      d.tail.shift();
      d.tailDropped++;
    }
  }

  function spawn(d: Decoder): void {
    if (closed || d.removed) return;
    d.gen++;
    const gen = d.gen;
    d.firstOfGen = true;
    d.startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = spawnFfmpeg(o.ffmpeg, args, ['pipe', 'pipe', 'pipe']);
    } catch (err) {
      log.error({ err }, 'decoder spawn failed');
      scheduleRestart(d);
      return;
    }
    d.proc = child;
    d.stdin = child.stdin ?? undefined;
    child.stdin?.on('error', () => {
      // EPIPE when the process dies: the exit handler accounts for it.
    });
    const reader = createFrameReader(frameBytes, (rgb) => {
      if (d.gen === gen) onFrame(d, rgb);
    });
    const out = child.stdout as Readable | null;
    out?.on('data', (chunk: Buffer) => {
      if (d.gen === gen) reader.push(chunk);
    });
    out?.on('error', () => undefined);
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      const parts = (partial + s).split(/\r?\n|\r/);
      partial = (parts.pop() ?? '').slice(0, MAX_LINE * 4);
      for (const p of parts) addLine(d, p.trim());
      // A decode error ("no frame!", "concealing errors") is a hint, not a verdict: the frame may
      // still come (concealed). Waiting less long only speeds up the recycle of a unit that
      // yields nothing; the mapping stays exact either way.
      const e = d.inFlight;
      if (parts.length > 0 && d.gen === gen && e && d.timerDue - Date.now() > ERROR_HINT_MS)
        arm(d, e, ERROR_HINT_MS);
    });
    child.stderr?.on('error', () => undefined);
    d.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        resolve();
        onExit(d, gen, code, signal);
      };
      child.once('error', (err) => {
        addLine(d, `spawn error: ${err.message}`);
        if (child.pid === undefined) finish(null, null);
      });
      child.once('exit', finish);
    });
    pump(d);
  }

  function onExit(d: Decoder, gen: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (d.gen !== gen) return; // an old generation we already replaced
    d.proc = undefined;
    d.stdin = undefined;
    clearTimeout(d.timer);
    d.timer = undefined;
    d.syncing = false;
    dropInFlight(d);
    if (closed || d.removed) return;
    log.warn({ decoder: d.index, code, signal, stderr: d.tail.slice(-3) }, 'decoder exited; restarting');
    if (Date.now() - d.startedAt > 10_000) d.attempt = 0;
    scheduleRestart(d);
  }

  function scheduleRestart(d: Decoder): void {
    if (closed || d.removed || d.restartTimer) return;
    const wait = backoffDelay(d.attempt++, backoff);
    d.restartTimer = setTimeout(() => {
      d.restartTimer = undefined;
      c.restarts++;
      spawn(d);
    }, wait);
    d.restartTimer.unref();
  }

  /** Doubt about the frame mapping: the process goes, its queue (not yet written) stays. */
  function recycle(d: Decoder, why: string): void {
    log.debug({ decoder: d.index, why }, 'restarting decoder');
    clearTimeout(d.timer);
    d.timer = undefined;
    d.syncing = false;
    dropInFlight(d);
    const p = d.proc;
    d.proc = undefined;
    d.stdin = undefined;
    d.gen++; // everything the old process still says is ignored
    if (p) p.kill('SIGKILL');
    c.restarts++;
    // At most one start per MIN_RESPAWN_MS per decoder: a stream of broken units must not turn
    // into a fork storm (a start costs ~50-70 ms CPU with Debian's ffmpeg). Waiting units stay queued.
    const wait = d.startedAt + MIN_RESPAWN_MS - Date.now();
    if (wait <= 0 || closed || d.removed) {
      spawn(d);
      return;
    }
    clearTimeout(d.restartTimer);
    d.restartTimer = setTimeout(() => {
      d.restartTimer = undefined;
      spawn(d);
    }, wait);
    d.restartTimer.unref();
  }

  function onFrame(d: Decoder, rgb: Buffer): void {
    if (d.syncing) {
      if (!isSyncFrame(rgb)) {
        c.discarded++;
        return;
      }
      clearTimeout(d.timer);
      d.timer = undefined;
      d.syncing = false;
      c.syncs++;
      pump(d);
      return;
    }
    const e = d.inFlight;
    if (d.strict && e) {
      // Strict: unit + sync unit in flight. The first picture is the unit's, further ones are
      // extra pictures of a broken unit, the sync picture closes the unit (with or without a frame).
      if (isSyncFrame(rgb)) {
        clearTimeout(d.timer);
        d.timer = undefined;
        d.inFlight = undefined;
        d.firstOfGen = false;
        if (!d.delivered) {
          c.lost++;
          c.empty++;
        }
        pump(d);
      } else if (d.delivered) {
        c.discarded++;
      } else {
        d.delivered = true;
        deliver(d, e, rgb);
      }
      return;
    }
    if (!e || isSyncFrame(rgb)) {
      // Out of step: most likely the unit before gave two pictures (the second one arrived when
      // nothing, or the next unit, was in flight). Nothing of this is delivered; resync, and the
      // camera of that unit gets a strike.
      // A restart, not a sync: a broken unit can leave decoder state behind (a corrupt SPS with
      // reorder frames makes it hold pictures back), which only a new process clears for sure.
      c.desyncs++;
      c.discarded++;
      if (d.lastCamera !== undefined) strike(d.lastCamera);
      recycle(d, 'frame out of step');
      return;
    }
    if (++e.got < e.pictures) {
      // An earlier picture of a catch-up GOP: decoded only to reach the newest one.
      c.discarded++;
      return;
    }
    clearTimeout(d.timer);
    d.timer = undefined;
    d.inFlight = undefined;
    d.firstOfGen = false;
    deliver(d, e, rgb);
    pump(d);
  }

  /** The unit in flight is given up: a loss unless (strict) its frame was already delivered. */
  function dropInFlight(d: Decoder): void {
    if (d.inFlight && !(d.strict && d.delivered)) c.lost++;
    d.inFlight = undefined;
  }

  function deliver(d: Decoder, e: Entry, rgb: Buffer): void {
    c.decoded++;
    d.lastCamera = e.cameraId;
    try {
      ev.onFrame(e.cameraId, rgb, e.captureTs, d.proc?.pid);
    } catch (err) {
      log.error({ err }, 'frame handler failed');
    }
  }

  /** Writes the sync unit; frames up to its picture are discarded. Restart if it does not come. */
  function startSync(d: Decoder, write = true): void {
    clearTimeout(d.timer);
    d.timer = undefined;
    if (!d.stdin) return;
    d.syncing = true;
    const gen = d.gen;
    d.timerDue = Date.now() + auTimeoutMs;
    d.timer = setTimeout(() => {
      if (d.gen === gen && d.syncing) recycle(d, 'sync unit timed out');
    }, auTimeoutMs);
    d.timer.unref();
    if (write) d.stdin.write(Buffer.concat([SYNC_UNIT, AUD]));
  }

  function pump(d: Decoder): void {
    if (d.inFlight || d.syncing || !d.stdin || closed) return;
    const e = d.queue.shift();
    if (!e) return;
    if (waiting.get(e.cameraId) === e) waiting.delete(e.cameraId);
    d.inFlight = e;
    d.delivered = false;
    e.got = 0;
    arm(d, e, auTimeoutMs + (d.firstOfGen ? startGraceMs : 0));
    // Strict decoders (quarantine) close every unit with a sync unit: ~3 ms more per unit (two
    // decoder and scaler re-inits), exact even when a broken unit yields zero or two pictures.
    d.stdin.write(Buffer.concat(d.strict ? [e.data, AUD, SYNC_UNIT, AUD] : [e.data, AUD]));
  }

  function arm(d: Decoder, e: Entry, ms: number): void {
    clearTimeout(d.timer);
    const gen = d.gen;
    d.timerDue = Date.now() + ms;
    d.timer = setTimeout(() => {
      if (d.gen !== gen || d.inFlight !== e) return;
      c.timeouts++;
      dropInFlight(d);
      strike(e.cameraId);
      // Its frame may still come (a slow decoder) or never (a unit that decodes to nothing). A
      // strict unit carries its own sync unit: wait for that one, writing another would leave a
      // stale sync picture behind.
      startSync(d, !d.strict);
    }, ms);
    d.timer.unref();
  }

  /** Timeouts per camera in the last STRIKE_WINDOW_MS (at most STRIKES_KEPT kept). */
  const strikes = new Map<string, number[]>();
  let quarantine: Decoder | undefined;
  const all = (): Decoder[] => (quarantine ? [...decoders, quarantine] : decoders);

  function strike(cameraId: string): void {
    const now = Date.now();
    const l = (strikes.get(cameraId) ?? []).filter((t) => now - t < STRIKE_WINDOW_MS);
    l.push(now);
    strikes.set(cameraId, l.slice(-STRIKES_KEPT));
  }

  function suspect(cameraId: string): boolean {
    const l = strikes.get(cameraId);
    if (!l) return false;
    const now = Date.now();
    const recent = l.filter((t) => now - t < STRIKE_WINDOW_MS).length;
    if (recent === 0) strikes.delete(cameraId);
    return recent >= SUSPECT_STRIKES;
  }

  function pick(cameraId: string): Decoder | undefined {
    // A camera whose units keep yielding nothing costs its decoder a timeout each time: it gets a
    // decoder of its own kind, so the healthy cameras do not wait behind it.
    if (suspect(cameraId)) {
      if (!quarantine) {
        quarantine = makeDecoder(-1);
        quarantine.strict = true;
        spawn(quarantine);
      }
      return quarantine;
    }
    let best: Decoder | undefined;
    let bestLoad = Infinity;
    for (const d of decoders) {
      if (d.removed) continue;
      const load = d.queue.length + (d.inFlight ? 1 : 0) + (d.proc ? 0 : maxQueue);
      if (load < bestLoad) {
        best = d;
        bestLoad = load;
      }
    }
    // Stay with the camera's previous decoder unless it is clearly busier: its scaler is already
    // set up for this camera's resolution.
    const prev = lastDecoder.get(cameraId);
    if (prev && prev !== quarantine && !prev.removed && prev.proc) {
      const load = prev.queue.length + (prev.inFlight ? 1 : 0);
      if (load <= bestLoad + 2) best = prev;
    }
    return best;
  }

  function makeDecoder(index: number): Decoder {
    return {
      index,
      gen: 0,
      proc: undefined,
      stdin: undefined,
      queue: [],
      inFlight: undefined,
      timer: undefined,
      timerDue: 0,
      syncing: false,
      strict: false,
      delivered: false,
      lastCamera: undefined,
      firstOfGen: true,
      startedAt: 0,
      attempt: 0,
      restartTimer: undefined,
      removed: false,
      tail: [],
      tailDropped: 0,
      exited: undefined,
    };
  }

  function stop(d: Decoder): Promise<void> {
    d.removed = true;
    clearTimeout(d.timer);
    clearTimeout(d.restartTimer);
    d.timer = undefined;
    d.restartTimer = undefined;
    const p = d.proc;
    const exited = d.exited;
    d.gen++;
    d.proc = undefined;
    d.stdin = undefined;
    if (!p || !exited || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    p.stdin?.end();
    p.kill('SIGTERM');
    return (async () => {
      let t: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        exited.then(() => true),
        new Promise<false>((r) => (t = setTimeout(() => r(false), killTimeoutMs))),
      ]);
      clearTimeout(t);
      if (ok) return;
      p.kill('SIGKILL');
      await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 1000).unref())]);
    })();
  }

  function resize(n: number): void {
    if (closed) return;
    const want = Math.max(1, Math.floor(n));
    while (decoders.length < want) {
      const d = makeDecoder(decoders.length);
      decoders.push(d);
      spawn(d);
    }
    while (decoders.length > want) {
      const d = decoders.pop()!;
      const queued = d.queue;
      d.queue = [];
      dropInFlight(d);
      void stop(d);
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
    pump(d);
    return true;
  }

  resize(o.decoders);
  // The quarantine decoder goes when no camera is a suspect any more and it has nothing to do.
  const sweep = setInterval(() => {
    const q = quarantine;
    if (!q || q.queue.length > 0 || q.inFlight) return;
    for (const id of [...strikes.keys()]) if (suspect(id)) return;
    quarantine = undefined;
    for (const [id, d] of lastDecoder) if (d === q) lastDecoder.delete(id);
    void stop(q);
  }, 10_000);
  sweep.unref();

  return {
    submit: (id, au, ts) => {
      submit(id, au, ts);
    },
    submitGop(id, units, ts) {
      // The strict decoder maps one picture per unit; a suspect camera gets no catch-up.
      if (closed || units.length === 0 || suspect(id)) return false;
      const parts: Buffer[] = [];
      units.forEach((u, i) => {
        if (i > 0) parts.push(AUD);
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
        stderrLinesDropped: d.tailDropped,
      }));
    },
    pids: () => all().flatMap((d) => (d.proc?.pid !== undefined ? [d.proc.pid] : [])),
    async close() {
      if (closed) return;
      closed = true;
      waiting.clear();
      clearInterval(sweep);
      await Promise.all(all().map((d) => stop(d)));
    },
  };
}
