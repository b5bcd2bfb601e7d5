// Where a camera's keyframe goes in the rtsp source: the activity gate decides whether it is
// decoded at all; a decoded one goes to the shared decoders now, or (decode on demand) waits
// compressed until analysis takes the camera's turn; activity that starts between keyframes gets
// the GOP so far decoded at once (catch-up), within a rate for the whole source.
import type { Frame } from '../../frame.ts';
import type { IngestDeps } from '../contract.ts';
import type { KeyframeUnit, RtspClient, StreamCodec } from './rtsp-client.ts';
import type { DecodeReason } from './activity.ts';
import { settle, type Cam } from './camera.ts';
import type { CodecPools } from './codec-pools.ts';
import { createTokenBucket } from './token-bucket.ts';

export interface KeyframeCounters {
  /** Keyframes by the activity gate's verdict: decoded for a reason, or skipped as still. */
  gate: Record<DecodeReason | 'still', number>;
  /** Decode on demand: pending keyframes replaced (or left) before analysis took them. */
  skippedCompressed: number;
  /** GOPs decoded on activity onset, and onsets refused (over catchUpPerS, or no whole GOP). */
  catchUp: { decoded: number; refused: number };
}

export interface KeyframeRouterOptions {
  stallMs: number;
  /** Catch-up decodes per second for the whole source (0: none). */
  catchUpPerS: number;
  /** How long analysis waits for a keyframe it asked for. */
  loadTimeoutMs: number;
  pool: CodecPools;
  /** The camera is still wanted and the source open. */
  live(cam: Cam): boolean;
  /** A camera changed codec: the pools are sized again. */
  codecChanged(): void;
}

export interface KeyframeRouter {
  keyframe(cam: Cam, au: KeyframeUnit): void;
  delta(cam: Cam, client: RtspClient, bytes: number, rtpTs: number): void;
  counters(): KeyframeCounters;
}

export function createKeyframeRouter(o: KeyframeRouterOptions, deps: IngestDeps): KeyframeRouter {
  const { pool } = o;
  const gate: KeyframeCounters['gate'] = { off: 0, warmup: 0, track: 0, forced: 0, activity: 0, still: 0 };
  const catchUp = { decoded: 0, refused: 0 };
  const tokens = createTokenBucket(o.catchUpPerS);
  let skippedCompressed = 0;

  /** Activity started between keyframes of a camera not being decoded: decode its GOP so far. */
  function tryCatchUp(cam: Cam, client: RtspClient): void {
    // Never for a camera being decoded: tracked, or a keyframe of it in the decoder now.
    if (cam.waiter || deps.tracked?.(cam.id) || deps.idle?.(cam.id)) return;
    const gop = client.gop();
    const ok =
      tokens.available() &&
      gop !== undefined &&
      gop.codec === cam.codec &&
      pool.submitGop(gop.codec, cam.id, gop.units, gop.arrivedAt);
    if (ok) {
      tokens.take();
      cam.catchUpTs = gop.arrivedAt;
    }
    catchUp[ok ? 'decoded' : 'refused']++;
    deps.onCatchUp?.(cam.id, ok ? 'decoded' : 'refused');
  }

  /** Decode on demand: one keyframe, now; its frame goes to the caller, not to onFrame. */
  function decodeNow(
    cam: Cam,
    codec: StreamCodec,
    data: Buffer,
    captureTs: number,
  ): Promise<Frame | undefined> {
    if (!o.live(cam)) return Promise.resolve(undefined);
    settle(cam, undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (cam.waiter?.timer === timer) settle(cam, undefined);
      }, o.loadTimeoutMs);
      timer.unref();
      cam.waiter = { captureTs, resolve, timer };
      // Refused (its decoders full or restarting): nothing will come, so do not wait for it.
      if (!pool.submit(codec, cam.id, data, captureTs)) settle(cam, undefined);
    });
  }

  function offerPending(
    cam: Cam,
    codec: StreamCodec,
    data: Buffer,
    captureTs: number,
    urgent: boolean,
  ): void {
    let done = false;
    deps.onPending?.({
      cameraId: cam.id,
      captureTs,
      // The bytes rose (on a tracked camera too: a second person), or the camera just connected:
      // someone may be new. A tracked face standing still or a forced look can wait its turn.
      urgent,
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

  return {
    keyframe(cam, au) {
      // A suspended camera: one keyframe per third of the stall time keeps the watchdog content.
      const idle = deps.idle?.(cam.id) ?? false;
      if (idle && Date.now() - (cam.lastFrameAt ?? 0) < o.stallMs / 3) return;
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
        o.codecChanged();
      }
      // Decode on demand, except for a suspended camera: its keyframe only feeds the watchdog.
      if (deps.onPending && !idle)
        offerPending(cam, au.codec, au.data, au.arrivedAt, v.reason === 'warmup' || v.active);
      else pool.submit(au.codec, cam.id, au.data, au.arrivedAt);
    },
    delta(cam, client, bytes, rtpTs) {
      cam.activity.delta(bytes, rtpTs);
      if (o.catchUpPerS > 0 && cam.activity.onset(rtpTs)) tryCatchUp(cam, client);
    },
    counters: () => ({ gate: { ...gate }, skippedCompressed, catchUp: { ...catchUp } }),
  };
}
