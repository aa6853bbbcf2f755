// What the viewport asks of a renderer; two implementations (WebGL2, Canvas 2D) own their canvas.

import type { FrameImage } from "../frames/image";
import type { Window } from "../windowing";
import type { Affine } from "./transform";

export interface DrawParams {
  /** Image pixels -> canvas device pixels. */
  transform: Affine;
  window: Window;
  /** The user's invert toggle (MONOCHROME1 inversion is applied by the renderer itself). */
  invert: boolean;
}

export interface Renderer {
  readonly kind: "webgl2" | "2d";
  readonly canvas: HTMLCanvasElement;
  /** Can this renderer show the image (e.g. within the texture size limit)? */
  supports(img: FrameImage): boolean;
  setImage(img: FrameImage | null): void;
  draw(p: DrawParams): void;
  /** Canvas size in device pixels. */
  resize(width: number, height: number): void;
  dispose(): void;
}
