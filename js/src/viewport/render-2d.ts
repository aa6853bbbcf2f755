// Canvas 2D renderer, the fallback: grey frames are windowed on the CPU through a lookup table
// into an offscreen canvas (redone only when the window or inversion changes), then drawn with
// the view transform.

import type { FrameImage, GreyImage } from "../frames/image";
import { buildLut, displayByte, type Window } from "../windowing";
import type { DrawParams, Renderer } from "./renderer";

function windowInto(out: Uint8ClampedArray, img: GreyImage, w: Window, invert: boolean): void {
  const inv = img.monochrome1 !== invert;
  const lut = buildLut(img.bitsAllocated, img.signed, img.slope, img.intercept, w, inv);
  const s = img.samples;
  for (let i = 0, j = 0; i < s.length; i++, j += 4) {
    const v = lut
      ? lut.table[s[i]! - lut.offset]!
      : displayByte(s[i]!, img.slope, img.intercept, w, inv);
    out[j] = v;
    out[j + 1] = v;
    out[j + 2] = v;
    out[j + 3] = 255;
  }
}

export class Canvas2dRenderer implements Renderer {
  readonly kind = "2d" as const;
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly offscreen: HTMLCanvasElement;
  private image: FrameImage | null = null;
  private rendered = "";

  constructor() {
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d")!;
    this.offscreen = document.createElement("canvas");
  }

  supports(): boolean {
    return true;
  }

  setImage(img: FrameImage | null): void {
    this.image = img;
    this.rendered = "";
  }

  draw(p: DrawParams): void {
    const ctx = this.ctx;
    const img = this.image;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!img) return;
    const t = p.transform;
    ctx.setTransform(t.a, t.b, t.c, t.d, t.e, t.f);
    ctx.imageSmoothingEnabled = Math.hypot(t.a, t.b) < 1;
    if (img.kind === "picture") {
      ctx.filter = p.invert ? "invert(1)" : "none";
      ctx.drawImage(img.bitmap, 0, 0, img.columns, img.rows); // stretched when reduced
      ctx.filter = "none";
      return;
    }
    const key = `${p.window.center}/${p.window.width}/${p.invert}`;
    if (key !== this.rendered) {
      this.offscreen.width = img.columns;
      this.offscreen.height = img.rows;
      const octx = this.offscreen.getContext("2d")!;
      const data = octx.createImageData(img.columns, img.rows);
      windowInto(data.data, img, p.window, p.invert);
      octx.putImageData(data, 0, 0);
      this.rendered = key;
    }
    ctx.drawImage(this.offscreen, 0, 0);
  }

  resize(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  dispose(): void {
    this.image = null;
  }
}
