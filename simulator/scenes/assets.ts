// The images a scene is built from, with the face region of each one.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface SceneAsset {
  name: 'astronaut' | 'camera' | 'chelsea' | 'back';
  /** Relative to the assets directory; empty for a shape that ffmpeg draws (backSource). */
  file: string;
  isFace: boolean;
  /** The part of the image that is overlaid: the face plus some head and shoulders around it. */
  crop: Rect;
  /** The face itself, in crop coordinates: what ground truth reports. */
  face: Rect;
}

// Face rectangles in source pixels, found once with UltraFace (assets/models/ultraface-rfb-320.onnx)
// on the whole image stretched to 320x240: the score-weighted mean of the boxes scoring > 0.9
// (astronaut 6 boxes, camera 4, chelsea 1), rounded to whole pixels. Source images are
// 512x512 (astronaut, camera) and 451x300 (chelsea). For the cat, the box is where UltraFace
// fires (0.93, around its left eye): the spot a detector would wrongly report.
const FACE_IN_SOURCE = {
  astronaut: { x: 180, y: 65, w: 89, h: 108 },
  camera: { x: 198, y: 110, w: 62, h: 84 },
  chelsea: { x: 63, y: 50, w: 160, h: 158 },
} as const;
const SOURCE_SIZE = { astronaut: [512, 512], camera: [512, 512], chelsea: [451, 300] } as const;

// Margin around the face kept in the crop: the detector needs some head and shoulders for context,
// and the overlay's feathered ellipse eats the corners.
const MARGIN = { side: 0.4, top: 0.35, bottom: 0.3 };

function cropAround(name: keyof typeof FACE_IN_SOURCE): { crop: Rect; face: Rect } {
  const f = FACE_IN_SOURCE[name];
  const [sw, sh] = SOURCE_SIZE[name];
  const x0 = Math.max(0, Math.round(f.x - f.w * MARGIN.side));
  const y0 = Math.max(0, Math.round(f.y - f.h * MARGIN.top));
  const x1 = Math.min(sw, Math.round(f.x + f.w * (1 + MARGIN.side)));
  const y1 = Math.min(sh, Math.round(f.y + f.h * (1 + MARGIN.bottom)));
  return {
    crop: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 },
    face: { x: f.x - x0, y: f.y - y0, w: f.w, h: f.h },
  };
}

export const SCENE_ASSETS: Readonly<Record<Exclude<SceneAsset['name'], 'back'>, SceneAsset>> = {
  astronaut: { name: 'astronaut', file: 'faces/astronaut.png', isFace: true, ...cropAround('astronaut') },
  camera: { name: 'camera', file: 'faces/camera.png', isFace: true, ...cropAround('camera') },
  // The whole cat head is shown; its "face" is the false-positive spot.
  chelsea: {
    name: 'chelsea',
    file: 'negatives/chelsea.png',
    isFace: false,
    crop: { x: 0, y: 0, w: 451, h: 300 },
    face: { ...FACE_IN_SOURCE.chelsea },
  },
};

/** The back of a head and shoulders (someone walking away): drawn by ffmpeg, no image. */
export const BACK_ASSET: SceneAsset = {
  name: 'back',
  file: '',
  isFace: false,
  crop: { x: 0, y: 0, w: 120, h: 150 },
  face: { x: 30, y: 5, w: 60, h: 81 },
};

/** A filter chain source drawing BACK_ASSET at w x h: dark hair over a coat, transparent around. */
export function backSource(w: number, h: number): string {
  const head = 'lte(hypot((X-0.5*W)/(0.25*W),(Y-0.3*H)/(0.27*H)),1)';
  const shoulders = 'lte(hypot((X-0.5*W)/(0.5*W),(Y-H)/(0.42*H)),1)';
  const hair = 'lt(Y,0.56*H)';
  return [
    `color=c=black:s=${w}x${h}:r=1:d=1`,
    'format=rgba',
    `geq=r='if(${hair},46,52)':g='if(${hair},33,56)':b='if(${hair},26,70)':a='255*max(${head},${shoulders})'`,
  ].join(',');
}

export const FACE_ASSETS = [SCENE_ASSETS.astronaut, SCENE_ASSETS.camera] as const;

export const BACKGROUNDS = ['brick', 'gravel', 'grass'] as const;
export type BackgroundName = (typeof BACKGROUNDS)[number];

export function backgroundFile(name: BackgroundName): string {
  return `backgrounds/${name}.png`;
}

/** The repository's assets/ directory (the project never reads /work/shared at run time). */
export function defaultAssetsDir(): string {
  return fileURLToPath(new URL('../../assets/', import.meta.url));
}

export function assetPath(assetsDir: string, file: string): string {
  return join(assetsDir, file);
}
