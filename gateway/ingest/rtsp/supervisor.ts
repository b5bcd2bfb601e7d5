// The gateway's `rtsp` ingest: the gateway itself speaks RTSP to every camera (gateway/ingest/
// rtsp-client.ts), keeps only the keyframes and hands them to a small pool of shared ffmpeg
// decoders (decoder-pool.ts). The contract is ../contract.ts, as for the ffmpeg source.
// Why: ffmpeg reading RTSP costs 1.3-1.7 ms CPU per camera-second before it decodes anything and holds an H.264 decoder per input (~6.8 MB); receiving RTP in Node costs
// ~0.1-0.15 ms and the pool holds one decoder per process, not per camera.
// Isolation comes for free: a camera is a socket, not an input of a shared process, so a bad
// camera fails alone; a decoder in doubt restarts and loses at most the one unit in flight.
import { backoffDelay, defaultBackoff, type BackoffOptions } from '../backoff.ts';
import { cameraStats, type SourceOptions } from '../camera.ts';
import { applyStatus, failureStatus, type CameraStatus } from '../status.ts';
import type { Ingest, IngestDeps, ProcessStats } from '../contract.ts';
import type { PoolCounters } from './decoder-pool.ts';
import type { Frame } from '../../frame.ts';
import { createCodecPools } from './codec-pools.ts';
import { defaultActivityOptions, type ActivityOptions, type DecodeReason } from './activity.ts';
import { addRtp, newCam, settle, zeroRtp, type Cam } from './camera.ts';
import { createTokenBucket } from './token-bucket.ts';
import {
  startRtspClient,
  type CloseKind,
  type RtspClient,
  type RtspClientStats,
  type StreamCodec,
} from '../rtsp-client.ts';

export interface RtspIngestOptions extends SourceOptions {
  /** Only `keyframes`: the pool decodes IDR units on their own (fps:<n> needs every frame). */
  mode?: string;
  /** Upper bound of decoder processes (default 16). */
  maxDecoders?: number;
  /** Per decoder, units waiting beyond the one in flight (default 32). */
  maxQueue?: number;
  auTimeoutMs?: number;
  /** OPTIONS..PLAY limit per connection (default 10 s). */
  setupTimeoutS?: number;
  /** The activity gate in front of the decoders (activity.ts); off unless `enabled` is given. */
  activity?: Partial<ActivityOptions>;
  /** Catch-up decodes of a GOP on activity onset, per second for the whole ingest (0: none). */
  catchUpPerS?: number;
}

export interface RtspIngestCounters extends PoolCounters {
  /** Keyframes waiting for or inside a decoder right now. */
  pending: number;
  rtp: RtspClientStats;
  /** Keyframes by the activity gate's verdict: decoded for a reason, or skipped as still. */
  gate: Record<DecodeReason | 'still', number>;
  /** Decode on demand: pending keyframes replaced (or left) before analysis took them. */
  skippedCompressed: number;
  /** GOPs decoded on activity onset, and onsets refused (over catchUpPerS, or no whole GOP). */
  catchUp: { decoded: number; refused: number };
}

export interface RtspIngest extends Ingest {
  counters(): RtspIngestCounters;
}

export function createRtspIngest(o: RtspIngestOptions, deps: IngestDeps): RtspIngest {
  if (o.mode !== undefined && o.mode !== 'keyframes')
    throw new Error(`the rtsp ingest decodes keyframes only, not ${o.mode}`);
  const log = deps.log.child({ component: 'ingest' });
  const stallMs = o.stallS * 1000;
  const backoff: BackoffOptions = { ...defaultBackoff, ...o.backoff };
  const perDecoder = Math.max(1, o.camerasPerDecoder);
  const maxDecoders = o.maxDecoders ?? 16;
  const cams = new Map<string, Cam>();
  const closedRtp = zeroRtp();
  const gateOpts: ActivityOptions = { ...defaultActivityOptions, enabled: false, ...o.activity };
  const gate: RtspIngestCounters['gate'] = { off: 0, warmup: 0, track: 0, forced: 0, activity: 0, still: 0 };
  // Skipped keyframes are not frames: a still camera under the gate gets a frame per forced look.
  const frameStallMs = stallMs + (gateOpts.enabled ? gateOpts.forceLookMs : 0);
  let skippedCompressed = 0;
  const catchUp = { decoded: 0, refused: 0 };
  const catchUpPerS = gateOpts.enabled ? (o.catchUpPerS ?? 0) : 0;
  const catchUpTokens = createTokenBucket(catchUpPerS);

  /** Activity started between keyframes of a camera not being decoded: decode its GOP so far. */
  function tryCatchUp(cam: Cam, client: RtspClient): void {
    // Never for a camera being decoded: tracked, or a keyframe of it in the decoder now.
    if (cam.waiter || deps.tracked?.(cam.id) || deps.idle?.(cam.id)) return;
    const gop = client.gop();
    if (!catchUpTokens.available() || !gop || gop.codec !== cam.codec) {
      catchUp.refused++;
      deps.onCatchUp?.(cam.id, 'refused');
      return;
    }
    if (!pool.submitGop(gop.codec, cam.id, gop.units, gop.arrivedAt)) {
      catchUp.refused++;
      deps.onCatchUp?.(cam.id, 'refused');
      return;
    }
    catchUpTokens.take();
    catchUp.decoded++;
    deps.onCatchUp?.(cam.id, 'decoded');
  }
  // Longer than a unit may take in the pool (its timeout plus the start-up grace of a new decoder).
  const loadTimeoutMs = (o.auTimeoutMs ?? 2000) + 4000;

  /** Decode on demand: one keyframe, now; its frame goes to the caller, not to onFrame. */
  function decodeNow(
    cam: Cam,
    codec: StreamCodec,
    data: Buffer,
    captureTs: number,
  ): Promise<Frame | undefined> {
    if (closed || cams.get(cam.id) !== cam) return Promise.resolve(undefined);
    settle(cam, undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (cam.waiter?.timer === timer) settle(cam, undefined);
      }, loadTimeoutMs);
      timer.unref();
      cam.waiter = { captureTs, resolve, timer };
      pool.submit(codec, cam.id, data, captureTs);
    });
  }

  function offerPending(cam: Cam, codec: StreamCodec, data: Buffer, captureTs: number): void {
    let done = false;
    deps.onPending?.({
      cameraId: cam.id,
      captureTs,
      load() {
        if (done) return Promise.resolve(undefined);
        done = true;
        return decodeNow(cam, codec, data, captureTs);
      },
      discard() {
        if (done) return;
        done = true;
        skippedCompressed++;
        deps.onSkip?.(cam.id, 'compressed');
      },
    });
  }
  let closed = false;

  const decoderCount = (codec: StreamCodec): number => {
    let n = 0;
    for (const c of cams.values()) if (c.codec === codec) n++;
    return Math.min(maxDecoders, Math.max(1, Math.ceil(n / perDecoder)));
  };
  const resizePools = (): void => pool.resize({ h264: decoderCount('h264'), h265: decoderCount('h265') });

  const pool = createCodecPools(
    {
      ffmpeg: o.ffmpeg,
      width: o.width,
      height: o.height,
      decoders: 1,
      ...(o.maxQueue !== undefined ? { maxQueue: o.maxQueue } : {}),
      ...(o.auTimeoutMs !== undefined ? { auTimeoutMs: o.auTimeoutMs } : {}),
      ...(o.killTimeoutMs !== undefined ? { killTimeoutMs: o.killTimeoutMs } : {}),
    },
    {
      onFrame(cameraId, rgb, captureTs, pid) {
        const cam = cams.get(cameraId);
        if (!cam || closed) return;
        cam.frames++;
        cam.lastFrameAt = Date.now();
        cam.lastPid = pid ?? null;
        cam.attempt = 0;
        setStatus(cam, 'online');
        // captureTs: arrival of the keyframe's last packet, before decoding.
        const frame = { cameraId, width: o.width, height: o.height, rgb, captureTs, seq: cam.seq++ };
        if (cam.waiter?.captureTs === captureTs) settle(cam, frame);
        else deps.onFrame(frame);
      },
    },
    log,
  );

  const setStatus = (cam: Cam, status: CameraStatus, detail?: string): void =>
    applyStatus(cam, status, detail, log, deps.onStatus);

  function connect(cam: Cam): void {
    if (closed || !cams.has(cam.id)) return;
    cam.playing = false;
    cam.activity.reconnected();
    const client = startRtspClient(
      {
        url: cam.url,
        mediaTimeoutMs: stallMs,
        setupTimeoutMs: (o.setupTimeoutS ?? 10) * 1000,
        keepGop: catchUpPerS > 0,
      },
      {
        onPlaying() {
          if (cam.client !== client) return;
          cam.playing = true;
          cam.playingAt = Date.now();
        },
        onKeyframe(au) {
          if (cam.client !== client || closed) return;
          // A suspended camera: one keyframe per third of the stall time keeps the watchdog content.
          const idle = deps.idle?.(cam.id) ?? false;
          if (idle && Date.now() - (cam.lastFrameAt ?? 0) < stallMs / 3) return;
          const v = cam.activity.keyframe(au.rtpTs, au.arrivedAt, deps.tracked?.(cam.id) ?? false);
          if (!v.decode) {
            gate.still++;
            deps.onSkip?.(cam.id, 'still');
            return;
          }
          gate[v.reason]++;
          if (au.codec !== cam.codec) {
            // A camera that changed codec: its waiting unit in the other pool is stale.
            pool.forget(cam.id);
            cam.codec = au.codec;
            resizePools();
          }
          // Decode on demand, except for a suspended camera: its keyframe only feeds the watchdog.
          if (deps.onPending && !idle) offerPending(cam, au.codec, au.data, au.arrivedAt);
          else pool.submit(au.codec, cam.id, au.data, au.arrivedAt);
        },
        onDelta(bytes, rtpTs) {
          if (cam.client !== client || closed) return;
          cam.activity.delta(bytes, rtpTs);
          if (catchUpPerS > 0 && cam.activity.onset(rtpTs)) tryCatchUp(cam, client);
        },
        onClose(kind, detail) {
          addRtp(cam.past, client.stats());
          if (cam.client !== client) return;
          cam.client = undefined;
          cam.playing = false;
          if (closed || !cams.has(cam.id)) return;
          onFailure(cam, kind, detail);
        },
      },
    );
    cam.client = client;
  }

  function onFailure(cam: Cam, kind: CloseKind, detail: string): void {
    const status =
      kind === 'unauthorized'
        ? 'unauthorized'
        : kind === 'unreachable'
          ? failureStatus('unreachable', cam.wasOnline)
          : failureStatus('other', cam.wasOnline);
    setStatus(cam, status, detail);
    pool.forget(cam.id);
    settle(cam, undefined);
    const floor = status === 'unauthorized' ? backoff.unauthorizedMinMs : 0;
    const wait = backoffDelay(cam.attempt++, backoff, floor);
    cam.restarts++;
    cam.retry = setTimeout(() => {
      cam.retry = undefined;
      connect(cam);
    }, wait);
    cam.retry.unref();
  }

  // A session that plays but yields no frame (every keyframe broken or lost) is offline too.
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const cam of cams.values()) {
      if (!cam.playing) continue;
      const since =
        cam.lastFrameAt !== undefined && cam.lastFrameAt > cam.playingAt ? cam.lastFrameAt : cam.playingAt;
      if (now - since > frameStallMs && cam.status === 'online')
        setStatus(cam, 'offline', `no frame for ${Math.round((now - since) / 1000)} s`);
    }
  }, 500);
  watchdog.unref();

  async function drop(cam: Cam): Promise<void> {
    clearTimeout(cam.retry);
    cam.retry = undefined;
    const c = cam.client;
    cam.client = undefined;
    pool.forget(cam.id);
    settle(cam, undefined);
    if (c) {
      // onClose folds the client's counters into cam.past.
      await c.close();
    }
    addRtp(closedRtp, cam.past);
  }

  return {
    setCameras(list) {
      if (closed) return;
      const want = new Map(list.map((c) => [c.id, c.url]));
      for (const [id, cam] of cams) {
        if (want.get(id) === cam.url) continue;
        cams.delete(id);
        void drop(cam);
      }
      for (const [id, url] of want) {
        if (cams.has(id)) continue;
        const cam = newCam(id, url, gateOpts);
        cams.set(id, cam);
        connect(cam);
      }
      resizePools();
    },
    stats() {
      const now = Date.now();
      const cameras = [...cams.values()].map((c) =>
        cameraStats(c, now, c.playing ? 'group' : 'waiting', c.lastPid),
      );
      const processes = pool.decoders().map(
        (d): ProcessStats => ({
          pid: d.pid,
          kind: d.quarantine ? 'quarantine' : 'group',
          generation: d.generation,
          cameras: d.cameras,
          stderrLinesDropped: d.stderrLinesDropped,
        }),
      );
      return { cameras, processes };
    },
    pids: () => pool.pids(),
    counters() {
      const rtp = zeroRtp();
      addRtp(rtp, closedRtp);
      for (const c of cams.values()) {
        addRtp(rtp, c.past);
        if (c.client) addRtp(rtp, c.client.stats());
      }
      return {
        ...pool.counters(),
        pending: pool.pending(),
        rtp,
        gate: { ...gate },
        skippedCompressed,
        catchUp: { ...catchUp },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(watchdog);
      const all = [...cams.values()];
      cams.clear();
      // Each client's close is bounded (~200 ms); the pool's by killTimeoutMs.
      await Promise.all([...all.map((c) => drop(c)), pool.close()]);
    },
  };
}
