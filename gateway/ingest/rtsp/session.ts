// A camera's RTSP session in the rtsp source: connect, hand its frames to the keyframe router,
// and on a close that we did not ask for report the status and retry with backoff (wrong
// credentials never sooner than unauthorizedMinMs). Stopping a camera waits for its client.
import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import { failureStatus, type CameraStatus } from '../status.ts';
import { startRtspClient, type CloseKind } from './rtsp-client.ts';
import { addRtp, settle, type Cam } from './camera.ts';
import type { CodecPools } from './codec-pools.ts';
import type { KeyframeRouter } from './keyframes.ts';

export interface SessionOptions {
  stallMs: number;
  setupTimeoutMs: number;
  /** The client keeps the GOP so far (for catch-up decodes). */
  keepGop: boolean;
  backoff: BackoffOptions;
  pool: CodecPools;
  keyframes: KeyframeRouter;
  /** The camera is still wanted and the source open. */
  wanted(cam: Cam): boolean;
  setStatus(cam: Cam, status: CameraStatus, detail?: string): void;
}

export interface Sessions {
  connect(cam: Cam): void;
  /** Stops a camera's session and retries; resolves once its client closed. */
  stop(cam: Cam): Promise<void>;
}

export function createSessions(o: SessionOptions): Sessions {
  function connect(cam: Cam): void {
    if (!o.wanted(cam)) return;
    cam.playing = false;
    cam.activity.reconnected();
    const client = startRtspClient(
      { url: cam.url, mediaTimeoutMs: o.stallMs, setupTimeoutMs: o.setupTimeoutMs, keepGop: o.keepGop },
      {
        onPlaying() {
          if (cam.client !== client) return;
          cam.playing = true;
          cam.playingAt = Date.now();
        },
        onKeyframe(au) {
          if (cam.client === client && o.wanted(cam)) o.keyframes.keyframe(cam, au);
        },
        onDelta(bytes, rtpTs) {
          if (cam.client === client && o.wanted(cam)) o.keyframes.delta(cam, client, bytes, rtpTs);
        },
        onClose(kind, detail) {
          addRtp(cam.past, client.stats());
          if (cam.client !== client) return;
          cam.client = undefined;
          cam.playing = false;
          if (o.wanted(cam)) onFailure(cam, kind, detail);
        },
      },
    );
    cam.client = client;
  }

  function onFailure(cam: Cam, kind: CloseKind, detail: string): void {
    const status =
      kind === 'unauthorized'
        ? 'unauthorized'
        : failureStatus(kind === 'unreachable' ? 'unreachable' : 'other', cam.wasOnline);
    o.setStatus(cam, status, detail);
    o.pool.forget(cam.id);
    settle(cam, undefined);
    const floor = status === 'unauthorized' ? o.backoff.unauthorizedMinMs : 0;
    const wait = backoffDelay(cam.attempt++, o.backoff, floor);
    cam.restarts++;
    cam.retry = setTimeout(() => {
      cam.retry = undefined;
      connect(cam);
    }, wait);
    cam.retry.unref();
  }

  async function stop(cam: Cam): Promise<void> {
    clearTimeout(cam.retry);
    cam.retry = undefined;
    const c = cam.client;
    cam.client = undefined;
    o.pool.forget(cam.id);
    settle(cam, undefined);
    // onClose folds the client's counters into cam.past.
    if (c) await c.close();
  }

  return { connect, stop };
}
