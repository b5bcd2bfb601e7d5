// The gateway's `rtsp` ingest: the gateway itself speaks RTSP to every camera (gateway/ingest/
// rtsp-client.ts), keeps only the keyframes and hands them to a small pool of shared ffmpeg
// decoders (decoder-pool.ts). The contract is ../contract.ts, as for the ffmpeg source.
// Why: ffmpeg reading RTSP costs 1.3-1.7 ms CPU per camera-second before it decodes anything and holds an H.264 decoder per input (~6.8 MB); receiving RTP in Node costs
// ~0.1-0.15 ms and the pool holds one decoder per process, not per camera.
// Isolation comes for free: a camera is a socket, not an input of a shared process, so a bad
// camera fails alone; a decoder in doubt restarts and loses at most the one unit in flight.
import { defaultBackoff, type BackoffOptions } from '../backoff.ts';
import { cameraStats, type SourceOptions } from '../camera.ts';
import { applyStatus, type CameraStatus } from '../status.ts';
import type { Ingest, IngestDeps, ProcessStats } from '../contract.ts';
import type { PoolCounters } from './decoder-pool.ts';
import { createCodecPools } from './codec-pools.ts';
import { defaultActivityOptions, type ActivityOptions } from './activity.ts';
import { addRtp, newCam, settle, zeroRtp, type Cam } from './camera.ts';
import { createKeyframeRouter, type KeyframeCounters } from './keyframes.ts';
import { createSessions } from './session.ts';
import type { RtspClientStats, StreamCodec } from './rtsp-client.ts';

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

export interface RtspIngestCounters extends PoolCounters, KeyframeCounters {
  /** Keyframes waiting for or inside a decoder right now. */
  pending: number;
  rtp: RtspClientStats;
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
  // Skipped keyframes are not frames: a still camera under the gate gets a frame per forced look.
  const frameStallMs = stallMs + (gateOpts.enabled ? gateOpts.forceLookMs : 0);
  const catchUpPerS = gateOpts.enabled ? (o.catchUpPerS ?? 0) : 0;
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
        const urgent = captureTs === cam.catchUpTs;
        const frame = { cameraId, width: o.width, height: o.height, rgb, captureTs, seq: cam.seq++, urgent };
        if (cam.waiter?.captureTs === captureTs) settle(cam, frame);
        else deps.onFrame(frame);
      },
      // Decode on demand: a lost keyframe frees its camera at once, so its next keyframe is
      // decoded, instead of after the load timeout (a corrupt camera lost two in a row and its
      // 12 s without a frame passed the 10 s stall: reported offline while it delivered).
      onLost(cameraId, captureTs) {
        const cam = cams.get(cameraId);
        if (cam?.waiter?.captureTs === captureTs) settle(cam, undefined);
      },
    },
    log,
  );

  const setStatus = (cam: Cam, status: CameraStatus, detail?: string): void =>
    applyStatus(cam, status, detail, log, deps.onStatus);
  const keyframes = createKeyframeRouter(
    {
      stallMs,
      catchUpPerS,
      // Longer than a unit may take in the pool (its timeout plus the start-up grace of a new decoder).
      loadTimeoutMs: (o.auTimeoutMs ?? 2000) + 4000,
      pool,
      live: (cam) => !closed && cams.get(cam.id) === cam,
      codecChanged: () => resizePools(),
    },
    deps,
  );

  const sessions = createSessions({
    stallMs,
    setupTimeoutMs: (o.setupTimeoutS ?? 10) * 1000,
    keepGop: catchUpPerS > 0,
    backoff,
    pool,
    keyframes,
    wanted: (cam) => !closed && cams.get(cam.id) === cam,
    setStatus,
  });

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
    await sessions.stop(cam);
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
        sessions.connect(cam);
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
        ...keyframes.counters(),
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
