// The layers' own canvas, over the image and under the ROIs: the image renderer is left alone,
// and the browser composites the two canvases on the GPU. WebGL2 draws the layers from
// textures (W/L, pan, zoom and scrolling never re-upload the image, only the small layer
// textures the stack moves to); the Canvas 2D painter is the fallback.

import type { LayerDraw } from "../layers/layer-set";
import { Layers2dPainter } from "./render-layers-2d";
import { LayersWebGlPainter } from "./render-layers-webgl";
import type { Affine } from "./transform";

export interface LayerPainter {
  readonly kind: "webgl2" | "2d";
  readonly canvas: HTMLCanvasElement;
  /** Draw `draws` (bottom first) with image pixels -> device pixels `transform`. */
  draw(draws: readonly LayerDraw[], transform: Affine): void;
  resize(width: number, height: number): void;
  dispose(): void;
}

/** A painter of the kind the image renderer is (WebGL2 when it can, else Canvas 2D). */
export function createLayerPainter(kind: "webgl2" | "2d"): LayerPainter {
  const painter: LayerPainter =
    (kind === "webgl2" ? LayersWebGlPainter.create() : null) ?? new Layers2dPainter();
  painter.canvas.classList.add("dcmv-layers");
  return painter;
}
