// The viewport element: the image canvas (WebGL2 or 2D), a 2D layer for ROIs, the four corners of
// overlay text and a message box for errors. It draws what it is told; state lives in the viewer.

import type { FrameImage } from "../frames/image";
import type { LayerDraw } from "../layers/layer-set";
import { type Roi, visibleOn } from "../rois";
import { h, setChildren } from "../ui/dom";
import type { Window } from "../windowing";
import { createLayerPainter, type LayerPainter } from "./layer-painter";
import { Canvas2dRenderer } from "./render-2d";
import { WebGlRenderer } from "./render-webgl";
import type { Renderer } from "./renderer";
import { type Affine, apply, imageToCanvas, type Size, scaled, type ViewState } from "./transform";

export interface Scene {
  image: FrameImage | null;
  view: ViewState;
  window: Window;
  invert: boolean;
  rois: readonly Roi[];
  frame: number;
  selected: number | null;
  /** A box being drawn, in image pixels. */
  draft: [number, number, number, number] | null;
  /** Layers over the image (SPEC §10), bottom first, on the image's pixel grid. */
  layers: readonly LayerDraw[];
}

export type Corner = "tl" | "tr" | "bl" | "br";

export class Viewport {
  readonly el: HTMLDivElement;
  private renderer: Renderer;
  private painter: LayerPainter;
  private readonly roiCanvas: HTMLCanvasElement;
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
    this.roiCanvas = h("canvas", { class: "dcmv-roi-layer" });
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
      this.roiCanvas,
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
    this.roiCanvas.width = w;
    this.roiCanvas.height = hh;
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
    this.drawRois(s, t);
    this.onPaint?.();
  }

  private drawRois(s: Scene, t: Affine): void {
    const ctx = this.roiCanvas.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.roiCanvas.width, this.roiCanvas.height);
    if (!s.image) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const rect = (b: readonly number[]) => {
      const pts = [
        apply(t, b[1]!, b[0]!),
        apply(t, b[3]!, b[0]!),
        apply(t, b[3]!, b[2]!),
        apply(t, b[1]!, b[2]!),
      ];
      ctx.beginPath();
      ctx.moveTo(pts[0]![0], pts[0]![1]);
      for (const p of pts.slice(1)) ctx.lineTo(p[0], p[1]);
      ctx.closePath();
      return pts;
    };
    s.rois.forEach((roi, i) => {
      if (!visibleOn(roi, s.frame)) return;
      const sel = i === s.selected;
      rect(roi.box);
      ctx.lineWidth = sel ? 2 : 1.5;
      ctx.strokeStyle = sel ? "#ffd23f" : "#39d353";
      ctx.stroke();
      if (sel) {
        ctx.fillStyle = "rgba(255, 210, 63, 0.12)";
        ctx.fill();
        const [ymin, xmin, ymax, xmax] = roi.box;
        const xs = [xmin, (xmin + xmax) / 2, xmax];
        const ys = [ymin, (ymin + ymax) / 2, ymax];
        ctx.fillStyle = "#ffd23f";
        for (const y of ys) {
          for (const x of xs) {
            if (x === xs[1] && y === ys[1]) continue;
            const [px, py] = apply(t, x, y);
            ctx.fillRect(px - 3.5, py - 3.5, 7, 7);
          }
        }
      }
      const [lx, ly] = apply(t, roi.box[1], roi.box[0]);
      ctx.fillStyle = sel ? "#ffd23f" : "#39d353";
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(`${i + 1}`, lx + 3, ly + 12);
    });
    if (s.draft) {
      rect(s.draft);
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#ffd23f";
      ctx.stroke();
      ctx.setLineDash([]);
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
