// Activity read from the compressed stream, before any decoding (issue 13). Per camera, the bytes
// of the non-IDR pictures between two keyframes, per second of stream time, make one sample. A
// learned baseline (median and MAD of the last samples) says what "nothing happens" costs at this
// door: sensor grain makes P frames of several KB/s on a still scene, someone walking in adds a
// few KB/s more. A keyframe is decoded when the last GOP stood out from the baseline, while the
// camera has a tracked face (a person standing still makes no bits), on a forced look, and while
// the baseline is young (after (re)connecting); otherwise it is skipped and counted.
// Pure: no timers, time comes in; the ingest supervisor owns one per gateway.

export interface ActivityOptions {
  /** Off: every keyframe is decoded (reason 'off'). */
  enabled: boolean;
  /** A keyframe is decoded at least this often, whatever the score (ms). */
  forceLookMs: number;
  /**
   * For `afterTrackMs` after a face was last tracked, a forced look comes every `afterTrackLookMs`
   * instead: at a door where people just were, the next one may step in while the last leaves or
   * stand still as they come, and make no bits the gate can tell from the walking it learned (at
   * 200 busy cameras, starts found only by a 10 s forced look fell from ~5 % to ~2 %; residential
   * decodes did not change).
   */
  afterTrackLookMs: number;
  afterTrackMs: number;
  /** Score (deviations above the baseline's median) that counts as activity. */
  threshold: number;
  /** GOP samples in the sliding baseline window. */
  window: number;
  /** Samples needed before the gate skips anything. */
  minSamples: number;
  /** Keyframes decoded after every (re)connection. */
  warmupKeyframes: number;
  /** Pictures into a GOP before an onset may be called (fewer are too noisy a sample). */
  onsetFrames: number;
}

export const defaultActivityOptions: ActivityOptions = {
  enabled: true,
  forceLookMs: 10_000,
  afterTrackLookMs: 3_000,
  afterTrackMs: 15_000,
  threshold: 3,
  window: 64,
  minSamples: 8,
  warmupKeyframes: 2,
  onsetFrames: 3,
};

export type DecodeReason = 'off' | 'warmup' | 'track' | 'forced' | 'activity';
/** `active`: the GOP before the keyframe stood out from the baseline (whatever the reason). */
export type Verdict =
  | { decode: true; reason: DecodeReason; score: number; active: boolean }
  | { decode: false; score: number; active: false };

/** Spread floors: a noise-free still scene has a MAD near 0 (0.4 KB/s every second). */
const MIN_SPREAD_BPS = 300;
const REL_SPREAD = 0.1;
/** 1.4826 * MAD estimates a standard deviation for normal data. */
const MAD_SIGMA = 1.4826;
const RTP_HZ = 90_000;
/** Spreads above the baseline at which a sample is clipped before it is learned. */
const LEARN_CLIP = 1;
/** A gap between keyframes longer than this (stream time) is a discontinuity, not a sample. */
const MAX_GOP_S = 30;

export interface CameraActivity {
  /** Bytes of a non-IDR picture (RTP payload bytes of one access unit) and its RTP timestamp. */
  delta(bytes: number, rtpTs: number): void;
  /** A keyframe arrived: decode it or not. `tracked`: the camera has an active face track. */
  keyframe(rtpTs: number, nowMs: number, tracked: boolean): Verdict;
  /**
   * After a delta(): true once per GOP when activity starts between keyframes of a camera whose
   * last keyframe was skipped (a catch-up decode is worth it). `rtpTs`: that picture's timestamp.
   */
  onset(rtpTs: number): boolean;
  /** The camera's session started again: warm up, but keep the learned baseline. */
  reconnected(): void;
  baseline(): { median: number; spread: number; samples: number };
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const m = n >> 1;
  return n % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** Median and robust spread (scaled MAD with floors) of the samples, in bytes per second. */
export function robustBaseline(samples: readonly number[]): { median: number; spread: number } {
  const s = [...samples].sort((a, b) => a - b);
  const med = median(s);
  const dev = s.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
  const spread = Math.max(MAD_SIGMA * median(dev), REL_SPREAD * med, MIN_SPREAD_BPS);
  return { median: med, spread };
}

export function createCameraActivity(o: ActivityOptions): CameraActivity {
  const samples: number[] = [];
  let bytes = 0;
  let lastKeyTs: number | undefined;
  let sinceConnect = 0;
  let lastDecodedAt = -Infinity;
  let lastTrackedAt = -Infinity;
  /** Pictures since the keyframe; whether that keyframe was skipped; an onset called this GOP. */
  let pictures = 0;
  /** Bytes and timestamp of the first picture after the keyframe: the encoder spends more on it
   * (its quality catches up with the IDR), so the onset rate leaves it out. */
  let firstBytes = 0;
  let firstTs = 0;
  let lastSkipped = false;
  let onsetCalled = false;
  let base = { median: 0, spread: MIN_SPREAD_BPS };

  function sample(rtpTs: number): number | undefined {
    if (lastKeyTs === undefined) return undefined;
    const s = ((rtpTs - lastKeyTs) >>> 0) / RTP_HZ;
    if (!(s > 0) || s > MAX_GOP_S) return undefined;
    return bytes / s;
  }

  function decide(rate: number | undefined, score: number, now: number, tracked: boolean): Verdict {
    const active = o.enabled && rate !== undefined && samples.length >= o.minSamples && score >= o.threshold;
    const yes = (reason: DecodeReason): Verdict => ({ decode: true, reason, score, active });
    if (!o.enabled) return yes('off');
    if (tracked) return yes('track');
    if (sinceConnect <= o.warmupKeyframes || samples.length < o.minSamples) return yes('warmup');
    if (active) return yes('activity');
    const look = now - lastTrackedAt < o.afterTrackMs ? o.afterTrackLookMs : o.forceLookMs;
    if (now - lastDecodedAt >= look) return yes('forced');
    return { decode: false, score, active: false };
  }

  return {
    delta(n, rtpTs) {
      bytes += n;
      pictures++;
      if (pictures === 1) {
        firstBytes = n;
        firstTs = rtpTs;
      }
    },
    onset(rtpTs) {
      if (!o.enabled || !lastSkipped || onsetCalled || pictures <= o.onsetFrames) return false;
      if (lastKeyTs === undefined || samples.length < o.minSamples) return false;
      const s = ((rtpTs - firstTs) >>> 0) / RTP_HZ;
      if (!(s > 0) || s > MAX_GOP_S) return false;
      if (((bytes - firstBytes) / s - base.median) / base.spread < o.threshold) return false;
      onsetCalled = true;
      return true;
    },
    keyframe(rtpTs, now, tracked) {
      const rate = sample(rtpTs);
      lastKeyTs = rtpTs;
      bytes = 0;
      pictures = 0;
      onsetCalled = false;
      sinceConnect++;
      const score = rate === undefined ? 0 : (rate - base.median) / base.spread;
      // Learn from GOPs without a tracked face only: a busy door would otherwise teach the gate
      // that people walking are its "still" (a track keeps the camera decoded meanwhile anyway).
      // A GOP above the baseline is learned clipped to one spread above it: people walking in
      // before their face is tracked would otherwise lift the median until the next one looks
      // "still" (busy doors waited for a forced look); a lasting change of level (light, grain)
      // still moves the baseline, about a spread per half window.
      if (rate !== undefined && !tracked) {
        const learned =
          samples.length >= o.minSamples ? Math.min(rate, base.median + LEARN_CLIP * base.spread) : rate;
        samples.push(learned);
        if (samples.length > o.window) samples.shift();
        base = robustBaseline(samples);
      }
      if (tracked) lastTrackedAt = now;
      const v = decide(rate, score, now, tracked);
      // A forced look counts from the last keyframe sent to the decoder, whatever the reason.
      if (v.decode) lastDecodedAt = now;
      lastSkipped = !v.decode;
      return v;
    },
    reconnected() {
      sinceConnect = 0;
      lastKeyTs = undefined;
      bytes = 0;
      pictures = 0;
      lastSkipped = false;
    },
    baseline: () => ({ ...base, samples: samples.length }),
  };
}
