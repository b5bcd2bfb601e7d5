// The contract between scene rendering (simulator/scenes) and RTP replay (simulator/rtsp).

/** What to render; the cache key is a hash of this plus the renderer's version. */
export interface SceneSpec {
  width: number;
  height: number;
  fps: number;
  /** Seconds between IDR frames; each clip is a whole number of GOPs. */
  keyframeIntervalS: number;
  /** Length of each clip in seconds (rounded up to whole GOPs). */
  seconds: number;
  /** How many distinct clips. */
  count: number;
  seed: number;
}

/** A box in normalised coordinates (0..1 of the frame), top-left origin. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One person (or hard negative) on screen once: from walking in to walking out. */
export interface Appearance {
  /** Stable within the clip, e.g. "c3-a2". */
  id: string;
  /** Asset name, e.g. "astronaut", "camera", "chelsea". */
  asset: string;
  /** False for hard negatives (a cat): a detector must not report them. */
  isFace: boolean;
  /** Clip-relative seconds: first and last instant any part of the face is visible. */
  startS: number;
  endS: number;
  /** The face box sampled once per frame while visible: frame index in the clip -> box. */
  boxes: { frame: number; box: Box }[];
}

export interface SceneClip {
  index: number;
  /** H.264 Annex-B elementary stream, no B-frames, starts on an IDR, whole GOPs. */
  file: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  gopFrames: number;
  durationS: number;
  appearances: Appearance[];
}
