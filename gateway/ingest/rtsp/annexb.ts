// Annex-B byte stream (H.264 B.1, H.265 B.2): each NAL unit behind a 4-byte start code, the form the
// shared ffmpeg decoders read on stdin.
const START = Buffer.from([0, 0, 0, 1]);

export function toAnnexB(nals: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of nals) parts.push(START, n);
  return Buffer.concat(parts);
}
