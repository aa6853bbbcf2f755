// Layers with Canvas 2D (when WebGL2 is unavailable or the image is beyond its texture size):
// each slice is coloured on the CPU into an offscreen canvas once per style, then drawn with the
// view transform and the layer's opacity.

import type { LayerDraw } from "../layers/layer-set";
import { colormapTable, labelTable } from "../layers/model";
import type { LayerPainter } from "./layer-painter";
import type { Affine } from "./transform";

/** Coloured slices kept (a stack's neighbourhood for a few layers). */
const KEPT = 32;

export class Layers2dPainter implements LayerPainter {
  readonly kind = "2d" as const;
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly coloured = new Map<string, HTMLCanvasElement>();

  constructor() {
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d")!;
  }

  draw(draws: readonly LayerDraw[], t: Affine): void {
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.imageSmoothingEnabled = false;
    for (const d of draws) {
      ctx.setTransform(t.a, t.b, t.c, t.d, t.e, t.f);
      ctx.globalAlpha = d.style.opacity;
      ctx.drawImage(this.colour(d), 0, 0);
    }
    ctx.globalAlpha = 1;
  }

  private colour(d: LayerDraw): HTMLCanvasElement {
    const key = `${d.key}/${d.style.outline}/${d.layer.colormap}/${JSON.stringify(d.layer.labels)}`;
    const known = this.coloured.get(key);
    if (known) return known;
    const { rows, columns, data } = d.frame;
    const out = document.createElement("canvas");
    out.width = columns;
    out.height = rows;
    const octx = out.getContext("2d")!;
    const img = octx.createImageData(columns, rows);
    const px = img.data;
    if (d.layer.kind === "heatmap") {
      const lut = colormapTable(d.layer.colormap);
      const [lo, hi] = d.layer.value_range ?? [0, 1];
      const span = Math.max(hi - lo, 1e-12);
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        if (Number.isNaN(x) || x <= lo) continue;
        const k = Math.round(Math.min(1, (x - lo) / span) * 255) * 4;
        px.set([lut[k]!, lut[k + 1]!, lut[k + 2]!, 255], i * 4);
      }
    } else {
      const lut = labelTable(d.layer);
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v === 0 || (d.style.outline && interior(data, i, columns, rows))) continue;
        px.set([lut[v * 4]!, lut[v * 4 + 1]!, lut[v * 4 + 2]!, lut[v * 4 + 3]!], i * 4);
      }
    }
    octx.putImageData(img, 0, 0);
    this.coloured.set(key, out);
    for (const old of this.coloured.keys()) {
      if (this.coloured.size <= KEPT) break;
      this.coloured.delete(old);
    }
    return out;
  }

  resize(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  dispose(): void {
    this.coloured.clear();
  }
}

/** True when every 4-neighbour of pixel i has its value (not on an outline). */
function interior(data: ArrayLike<number>, i: number, columns: number, rows: number): boolean {
  const v = data[i];
  const x = i % columns;
  const y = (i - x) / columns;
  if (x === 0 || y === 0 || x === columns - 1 || y === rows - 1) return false;
  return (
    data[i - 1] === v && data[i + 1] === v && data[i - columns] === v && data[i + columns] === v
  );
}
