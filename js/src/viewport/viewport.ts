// The viewport element: the image canvas (WebGL2 or 2D), the layers' canvas (SPEC §10), a 2D
// layer for the display shutter, 2D layers for ROIs and redaction boxes (on top of everything),
// the four corners of overlay text and a message box for errors. It draws what it is told; state
// lives in the viewer.

import type { FrameImage } from "../frames/image";
import type { LayerDraw } from "../layers/layer-set";
import type { Roi } from "../rois";
import { h, setChildren } from "../ui/dom";
import type { Window } from "../windowing";
import { drawRedactions, drawRois } from "./boxes";
import { createLayerPainter, type LayerPainter } from "./layer-painter";
import { Canvas2dRenderer } from "./render-2d";
import { WebGlRenderer } from "./render-webgl";
import type { Renderer } from "./renderer";
import { type Affine, imageToCanvas, type Size, scaled, type ViewState } from "./transform";

export interface Scene {
  image: FrameImage | null;
  view: ViewState;
  window: Window;
  invert: boolean;
  rois: readonly Roi[];
  /** Redaction boxes: opaque black over the image (SPEC §12), on every frame. */
  redactions: readonly Roi[];
  /** The Redact tool is editing them: outline the selection and draw the draft on top. */
  redacting: boolean;
  frame: number;
  selected: number | null;
  redactSelected: number | null;
  /** A box being drawn, in image pixels. */
  draft: [number, number, number, number] | null;
  /** The display shutter to lay over the image (its picture spans the whole image). */
  shutter: ImageBitmap | null;
  /** Layers over the image (SPEC §10), bottom first, on the image's pixel grid. */
  layers: readonly LayerDraw[];
}

export type Corner = "tl" | "tr" | "bl" | "br";

export class Viewport {
  readonly el: HTMLDivElement;
  private renderer: Renderer;
  private painter: LayerPainter;
  private readonly shutterCanvas: HTMLCanvasElement;
  /** What the shutter layer shows now (it is redrawn only when this changes). */
  private shutterDrawn = "";
  private shutterBitmap: ImageBitmap | null = null;
  private readonly roiCanvas: HTMLCanvasElement;
  /** Above every other drawing (image, layers, ROIs): nothing may show through a redaction. */
  private readonly redactCanvas: HTMLCanvasElement;
  private readonly corners: Record<Corner, HTMLDivElement>;
  private readonly message: HTMLDivElement;
  private readonly observer: ResizeObserver;
  private size: Size = { width: 1, height: 1 };
  private dpr = 1;
  private scene: Scene | null = null;
  private uploaded: FrameImage | null = null;
  private raf = 0;
  /** Called after each paint (for tests, fps counters). */
  onPaint: (() => void) | null = null;
  /** Called when the CSS size changes. */
  onResize: (() => void) | null = null;
  private preferred: "webgl2" | "2d";

  constructor(prefer: "webgl2" | "2d" = "webgl2") {
    this.preferred = prefer;
    this.renderer = this.makeRenderer(prefer);
    this.painter = createLayerPainter(this.renderer.kind);
    this.shutterCanvas = h("canvas", { class: "dcmv-shutter-layer" });
    this.roiCanvas = h("canvas", { class: "dcmv-roi-layer" });
    this.redactCanvas = h("canvas", { class: "dcmv-redact-layer" });
    this.corners = {
      tl: h("div", { class: "dcmv-corner dcmv-tl" }),
      tr: h("div", { class: "dcmv-corner dcmv-tr" }),
      bl: h("div", { class: "dcmv-corner dcmv-bl" }),
      br: h("div", { class: "dcmv-corner dcmv-br" }),
    };
    this.message = h("div", { class: "dcmv-message", hidden: true });
    this.el = h(
      "div",
      { class: "dcmv-viewport", tabindex: "-1" },
      this.renderer.canvas,
      this.painter.canvas,
      this.shutterCanvas,
      this.roiCanvas,
      this.redactCanvas,
      this.corners.tl,
      this.corners.tr,
      this.corners.bl,
      this.corners.br,
      this.message,
    );
    this.renderer.canvas.classList.add("dcmv-image");
    this.observer = new ResizeObserver(() => this.measure());
    this.observer.observe(this.el);
  }

  private makeRenderer(kind: "webgl2" | "2d"): Renderer {
    return (kind === "webgl2" ? WebGlRenderer.create() : null) ?? new Canvas2dRenderer();
  }

  get rendererKind(): "webgl2" | "2d" {
    return this.renderer.kind;
  }

  /** CSS size of the drawing area. */
  canvasSize(): Size {
    return this.size;
  }

  /** Image -> canvas (CSS pixels) for the current scene. */
  transform(view: ViewState, image: { rows: number; columns: number }): Affine {
    return imageToCanvas(view, { width: image.columns, height: image.rows }, this.size);
  }

  private measure(): void {
    const r = this.el.getBoundingClientRect();
    const width = Math.max(1, Math.round(r.width));
    const height = Math.max(1, Math.round(r.height));
    const dpr = window.devicePixelRatio || 1;
    if (width === this.size.width && height === this.size.height && dpr === this.dpr) return;
    this.size = { width, height };
    this.dpr = dpr;
    this.applySize();
    this.onResize?.();
    this.paintNow();
  }

  private applySize(): void {
    const w = Math.round(this.size.width * this.dpr);
    const hh = Math.round(this.size.height * this.dpr);
    this.renderer.resize(w, hh);
    this.painter.resize(w, hh);
    this.shutterDrawn = "";
    for (const c of [this.shutterCanvas, this.roiCanvas, this.redactCanvas]) {
      c.width = w;
      c.height = hh;
    }
  }

  /** Swap to the 2D renderer when the WebGL one cannot show this image (too large). */
  private ensureRenderer(img: FrameImage | null): void {
    if (!img || this.renderer.supports(img)) return;
    const old = this.renderer;
    this.renderer = new Canvas2dRenderer();
    this.renderer.canvas.classList.add("dcmv-image");
    old.canvas.replaceWith(this.renderer.canvas);
    old.dispose();
    this.matchPainter();
    this.uploaded = null;
    this.applySize();
  }

  /** The layers are painted the way the image is (an image too large for WebGL: both 2D). */
  private matchPainter(): void {
    if (this.painter.kind === this.renderer.kind) return;
    const old = this.painter;
    this.painter = createLayerPainter(this.renderer.kind);
    old.canvas.replaceWith(this.painter.canvas);
    old.dispose();
  }

  /** Restore the preferred renderer (e.g. when the next file fits WebGL again). */
  resetRenderer(): void {
    if (this.renderer.kind === this.preferred) return;
    const old = this.renderer;
    this.renderer = this.makeRenderer(this.preferred);
    this.renderer.canvas.classList.add("dcmv-image");
    old.canvas.replaceWith(this.renderer.canvas);
    old.dispose();
    this.matchPainter();
    this.uploaded = null;
    this.applySize();
  }

  /** Draw this scene on the next animation frame (coalesces bursts of pointer moves). */
  draw(scene: Scene): void {
    this.scene = scene;
    if (!this.raf) this.raf = requestAnimationFrame(() => this.paintNow());
  }

  /** Draw immediately (cine calls this from its own animation frame). */
  drawNow(scene: Scene): void {
    this.scene = scene;
    this.paintNow();
  }

  private paintNow(): void {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    const s = this.scene;
    if (!s) return;
    this.ensureRenderer(s.image);
    if (s.image !== this.uploaded) {
      this.renderer.setImage(s.image);
      this.uploaded = s.image;
    }
    const t = s.image
      ? this.transform(s.view, s.image)
      : imageToCanvas(s.view, { width: 1, height: 1 }, this.size);
    this.renderer.draw({ transform: scaled(t, this.dpr), window: s.window, invert: s.invert });
    this.painter.draw(s.image ? s.layers : [], scaled(t, this.dpr));
    this.drawShutter(s, scaled(t, this.dpr));
    this.drawBoxes(s, t);
    this.onPaint?.();
  }

  /** Lay the shutter's picture over the image, pixel for pixel (no smoothing: its edge is
   *  the edge the server's display PNGs have). */
  private drawShutter(s: Scene, t: Affine): void {
    const bitmap = s.image ? s.shutter : null;
    const key =
      bitmap && s.image ? [t.a, t.b, t.c, t.d, t.e, t.f, s.image.columns, s.image.rows].join() : "";
    if (bitmap === this.shutterBitmap && key === this.shutterDrawn) return;
    this.shutterBitmap = bitmap;
    this.shutterDrawn = key;
    const ctx = this.shutterCanvas.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.shutterCanvas.width, this.shutterCanvas.height);
    if (!bitmap || !s.image) return;
    ctx.setTransform(t.a, t.b, t.c, t.d, t.e, t.f);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, 0, 0, s.image.columns, s.image.rows);
  }

  private drawBoxes(s: Scene, t: Affine): void {
    for (const canvas of [this.roiCanvas, this.redactCanvas]) {
      const ctx = canvas.getContext("2d")!;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      if (!s.image) continue;
      ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      if (canvas === this.roiCanvas) drawRois(ctx, s, t);
      else drawRedactions(ctx, s, t);
    }
  }

  setCorner(corner: Corner, lines: readonly string[]): void {
    const el = this.corners[corner];
    const text = lines.join("\n");
    // Cine rewrites the overlay every frame: touch the DOM only for what changed.
    if (el.dataset.text === text) return;
    el.dataset.text = text;
    setChildren(el, ...lines.map((l) => h("div", {}, l)));
  }

  /** Show an error or notice over the image (null hides it). */
  showMessage(title: string | null, detail = ""): void {
    if (!title) {
      this.message.hidden = true;
      return;
    }
    setChildren(this.message, h("strong", {}, title), detail ? h("div", {}, detail) : null);
    this.message.hidden = false;
  }

  setCursor(cursor: string): void {
    this.roiCanvas.style.cursor = cursor;
  }

  dispose(): void {
    this.observer.disconnect();
    if (this.raf) cancelAnimationFrame(this.raf);
    this.renderer.dispose();
    this.painter.dispose();
  }
}
