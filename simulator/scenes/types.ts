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
  /** Share of the clips that show a residential entrance (0: all busy, the default). */
  residentialShare?: number;
  /** Length of residential clips in seconds (default 300): long enough for a few passages. */
  residentialSeconds?: number;
  /** People passing a residential entrance per hour (default 20). */
  passagesPerHour?: number;
  /** Share of the clips encoded as H.265 (default 0). */
  h265Share?: number;
  /** Temporal sensor grain, ffmpeg noise strength (default 7; 0: off). */
  noise?: number;
  /** Hall light switching, exposure drift and a door's shadow (default true). */
  lights?: boolean;
  /** Movement without a face at residential entrances: door, pet, back of a head (default true). */
  distractors?: boolean;
}

export type SceneProfile = 'busy' | 'residential';
export type VideoCodec = 'h264' | 'h265';

/** A change of light that is no appearance but moves pixels: what a motion gate must shrug off. */
export interface LightEvent {
  kind: 'lightOff' | 'shadow';
  startS: number;
  endS: number;
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
  /** Asset name: "astronaut", "camera", "chelsea" (busy); residential adds "pet", "door", "back",
   * "small-face", "blurred-face". */
  asset: string;
  /** False for hard negatives and movement without a countable face: a detector must not report them. */
  isFace: boolean;
  /** Clip-relative seconds: first and last instant any part of the face is visible. */
  startS: number;
  endS: number;
  /** The face box sampled once per frame while visible: frame index in the clip -> box. */
  boxes: { frame: number; box: Box }[];
}

export interface SceneClip {
  index: number;
  /** Annex-B elementary stream (H.264 or H.265), no B-frames, starts on an IDR, whole GOPs. */
  file: string;
  codec: VideoCodec;
  profile: SceneProfile;
  width: number;
  height: number;
  fps: number;
  frames: number;
  gopFrames: number;
  durationS: number;
  appearances: Appearance[];
  lights: LightEvent[];
}
