// The contract between decoding (gateway/decode) and analysis (gateway/detect, motion, tracker).

/** One decoded picture of one camera, already scaled to the analysis size. */
export interface Frame {
  cameraId: string;
  width: number;
  height: number;
  /** Packed RGB24, exactly width * height * 3 bytes; owned by the receiver. */
  rgb: Buffer;
  /** Wall-clock capture time estimate, ms since the epoch. */
  captureTs: number;
  /** Per-camera frame counter from the decoder (gaps mean losses). */
  seq: number;
  /** Decoded on activity onset (catch-up): analysis serves it before the round robin. */
  urgent?: boolean;
}

/** Analysis size: what UltraFace RFB-320 takes. */
export const ANALYSIS_WIDTH = 320;
export const ANALYSIS_HEIGHT = 240;

/**
 * A keyframe still compressed (rtsp ingest): analysis decodes it when the camera's turn comes, so
 * no decoded frame is ever thrown away unanalysed. Exactly one of load() or discard() is called.
 */
export interface PendingFrame {
  cameraId: string;
  /** Arrival of the keyframe's last packet, ms since the epoch. */
  captureTs: number;
  /**
   * The GOP before it stood out (on a tracked camera too: a second person), or the camera just
   * connected: someone may be new, so analysis serves it before the round robin (start latency).
   */
  urgent: boolean;
  /** Decodes it; undefined when the decoder lost it (or it is not wanted any more). */
  load(): Promise<Frame | undefined>;
  /** A newer keyframe replaced it, or its camera left: never decoded. */
  discard(): void;
}
