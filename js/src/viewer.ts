// The viewer of the open files: loads frames through the cache, keeps each tab's state, draws the
// active one into the viewport and serves the tools (it is their ToolHost).

import type { AnnotationStore } from "./annotations";
import { type Api, ApiError } from "./api";
import { type Doc, effectiveWindow, frameCount, isGreyInfo, modalityRange, newDoc } from "./doc";
import { FrameCache } from "./frames/cache";
import type { FrameImage } from "./frames/image";
import type { ToolId } from "./keys";
import { overlayLines, publishState, readout } from "./overlay";
import { type PresetId, presetById } from "./presets";
import { type Roi, scopeFrames } from "./rois";
import type { ToolHost } from "./tools/types";
import type { FileSummary } from "./types";
import {
  apply,
  defaultView,
  flipView,
  invert as invertAffine,
  rotateView,
  scaleOf,
  type ViewState,
} from "./viewport/transform";
import type { Scene, Viewport } from "./viewport/viewport";
import { dragUnit, fullDynamicWindow, initialWindow, type Window } from "./windowing";

export class Viewer implements ToolHost {
  readonly docs: Doc[] = [];
  active: Doc | null = null;
  tool: ToolId = "wl";
  scope: "frame" | "all" = "all";
  readonly cache: FrameCache;
  private draft: [number, number, number, number] | null = null;
  private hoverPoint: [number, number] | null = null;
  /** Called after any state change the chrome (toolbar, tabs, frame bar) may show. */
  onChange: () => void = () => {};

  constructor(
    private readonly api: Api,
    readonly store: AnnotationStore,
    readonly viewport: Viewport,
    private readonly stateEl: HTMLElement,
  ) {
    this.cache = new FrameCache(
      (file, frame, signal) => this.load(file, frame, signal),
      undefined,
      api.transport.parallel,
    );
    this.viewport.onResize = () => this.redraw();
    store.onChange((file) => {
      if (this.active?.file.index === file) this.redraw();
    });
  }

  private load(file: number, frame: number, signal: AbortSignal): Promise<FrameImage> {
    const doc = this.docs.find((d) => d.file.index === file);
    if (doc?.mode === "picture") return this.api.png(file, frame, true, { signal });
    return this.api.raw(file, frame, signal);
  }

  /** Open a file in a tab (or switch to its tab). */
  open(file: FileSummary): Doc {
    let doc = this.docs.find((d) => d.file.index === file.index);
    if (!doc) {
      doc = newDoc(file);
      this.docs.push(doc);
      void this.start(doc);
    }
    this.activate(doc);
    return doc;
  }

  close(doc: Doc): void {
    const i = this.docs.indexOf(doc);
    if (i < 0) return;
    this.docs.splice(i, 1);
    this.cache.dropFile(doc.file.index);
    if (this.active === doc) {
      const next = this.docs[Math.min(i, this.docs.length - 1)] ?? null;
      if (next) this.activate(next);
      else {
        this.active = null;
        this.viewport.showMessage("No file open", "Choose a file in the explorer.");
        this.redraw();
      }
    }
    this.onChange();
  }

  activate(doc: Doc): void {
    this.active = doc;
    this.viewport.resetRenderer();
    this.viewport.showMessage(doc.error?.title ?? null, doc.error?.detail ?? "");
    this.redraw();
    this.onChange();
    if (doc.info) this.showFrame(doc.frame);
  }

  private async start(doc: Doc): Promise<void> {
    const i = doc.file.index;
    void this.store.load(i).catch((e: unknown) => this.fail(doc, "ROIs could not be loaded", e));
    try {
      doc.info = await this.api.info(i);
    } catch (e) {
      this.fail(doc, "This file cannot be shown", e);
      return;
    }
    if (!doc.info.has_pixels) {
      this.fail(
        doc,
        "No pixel data",
        new Error("This DICOM file holds no image; its tags are on the right."),
      );
      return;
    }
    doc.mode = isGreyInfo(doc.info) ? "raw" : "picture";
    if (doc.info.default_window) doc.baseWindow = { ...doc.info.default_window };
    if (doc.mode === "raw") {
      // First paint from the display PNG while the raw samples travel; its headers also carry
      // the server's window for files without one of their own.
      const f = doc.frame;
      const png = this.api.png(i, f, false).catch(() => null);
      doc.serverWindow = png.then((p) => (p?.kind === "picture" ? p.window : null));
      void png.then((p) => {
        if (p && !doc.image && doc.frame === f) this.present(doc, p, f);
      });
    }
    this.onChange();
    if (this.active === doc) this.showFrame(doc.frame);
  }

  private fail(doc: Doc, title: string, e: unknown): void {
    const detail =
      e instanceof ApiError
        ? `${e.message} (${e.code})`
        : e instanceof Error
          ? e.message
          : String(e);
    doc.error = { title, detail };
    doc.loading = false;
    if (this.active === doc) {
      this.viewport.showMessage(title, detail);
      this.redraw();
    }
    this.onChange();
  }

  /** Show frame f of the active file (from the cache when it is there). */
  showFrame(f: number, prefetch = true): void {
    const doc = this.active;
    if (!doc?.info) return;
    const n = frameCount(doc);
    const frame = Math.min(n - 1, Math.max(0, f));
    doc.frame = frame;
    const img = this.cache.peek(doc.file.index, frame);
    if (img) this.present(doc, img, frame);
    else {
      doc.loading = true;
      this.redraw();
      this.cache.get(doc.file.index, frame).then(
        (im) => {
          if (doc.frame === frame) this.present(doc, im, frame);
        },
        (e: unknown) => this.frameFailed(doc, frame, e),
      );
    }
    if (prefetch) {
      const near = [frame + 1, frame + 2, frame - 1].filter((x) => x >= 0 && x < n);
      this.cache.prefetch(doc.file.index, near);
    }
    this.onChange();
  }

  private frameFailed(doc: Doc, frame: number, e: unknown): void {
    if (e instanceof DOMException && e.name === "AbortError") return;
    if (doc.mode === "raw" && !(e instanceof ApiError)) {
      // Samples the browser cannot window (an unusual layout): fall back to display PNGs.
      doc.mode = "picture";
      this.cache.dropFile(doc.file.index);
      if (doc.frame === frame && this.active === doc) this.showFrame(frame);
      return;
    }
    if (doc.frame === frame) this.fail(doc, `Frame ${frame + 1} cannot be shown`, e);
  }

  private present(doc: Doc, img: FrameImage, frame: number): void {
    if (img.kind === "grey" && !doc.baseWindow) {
      if (img.defaultWindow) {
        doc.baseWindow = img.defaultWindow;
      } else {
        void (doc.serverWindow ?? Promise.resolve(null)).then((server) => {
          doc.baseWindow ??= initialWindow(null, server, () =>
            fullDynamicWindow(img.min, img.max, img.slope, img.intercept),
          );
          if (doc.frame === frame) this.present(doc, img, frame);
        });
        return;
      }
    }
    const first = doc.image === null || doc.image.kind !== img.kind;
    doc.image = img;
    doc.imageFrame = frame;
    doc.loading = false;
    if (doc.error) {
      doc.error = null;
      if (this.active === doc) this.viewport.showMessage(null);
    }
    if (this.active === doc) this.redraw(true);
    if (first) this.onChange();
  }

  /** Repaint the active doc (`now` paints synchronously, for cine). */
  redraw(now = false): void {
    const scene = this.scene(this.active);
    if (now) this.viewport.drawNow(scene);
    else this.viewport.draw(scene);
    this.updateOverlay();
  }

  /** What the viewport shows for a doc; `rois` overrides the stored ones (during a drag). */
  private scene(doc: Doc | null, rois?: readonly Roi[]): Scene {
    const img = doc?.image ?? null;
    return {
      image: img,
      view: doc?.view ?? defaultView(),
      window: doc ? effectiveWindow(doc, img) : { center: 0, width: 1 },
      invert: doc?.invert ?? false,
      rois: rois ?? (doc ? this.store.rois(doc.file.index) : []),
      frame: doc?.frame ?? 0,
      selected: doc?.selected ?? null,
      draft: this.draft,
    };
  }

  private updateOverlay(): void {
    const doc = this.active;
    const el = this.stateEl.dataset;
    if (!doc) {
      for (const c of ["tl", "tr", "bl", "br"] as const) this.viewport.setCorner(c, []);
      el.state = "empty";
      return;
    }
    const img = doc.image;
    const w = effectiveWindow(doc, img);
    const scale = img ? this.imageScale() : 1;
    const lines = overlayLines(doc, w, scale, this.viewport.rendererKind);
    this.viewport.setCorner("tl", lines.tl);
    this.viewport.setCorner("tr", lines.tr);
    this.viewport.setCorner("br", lines.br);
    this.viewport.setCorner("bl", this.readoutLines());
    publishState(
      el,
      doc,
      w,
      scale,
      this.viewport.rendererKind,
      this.store.rois(doc.file.index).length,
    );
  }

  private readoutLines(): string[] {
    const doc = this.active;
    if (!doc?.image || !this.hoverPoint) return [];
    const p = this.toImage(...this.hoverPoint);
    return p ? readout(doc, doc.image, p[0], p[1]) : [];
  }

  hover(point: [number, number] | null): void {
    this.hoverPoint = point;
    this.viewport.setCorner("bl", this.readoutLines());
  }

  // ---- view commands (toolbar, keys) ----

  setPreset(id: PresetId): void {
    const doc = this.active;
    const p = presetById(id);
    if (!doc || !p) return;
    doc.preset = id;
    doc.manual =
      p.center !== undefined && p.width !== undefined ? { center: p.center, width: p.width } : null;
    this.redraw();
    this.onChange();
  }

  toggleInvert(): void {
    if (!this.active) return;
    this.active.invert = !this.active.invert;
    this.redraw();
    this.onChange();
  }

  rotate(dir: 1 | -1): void {
    if (this.active) this.setView(rotateView(this.active.view, dir));
  }

  flip(horizontal: boolean): void {
    if (this.active) this.setView(flipView(this.active.view, horizontal));
  }

  /** Reset view, window and inversion of the active file. */
  reset(): void {
    const doc = this.active;
    if (!doc) return;
    doc.view = defaultView();
    doc.preset = "default";
    doc.manual = null;
    doc.invert = false;
    this.redraw();
    this.onChange();
  }

  step(delta: number): void {
    const doc = this.active;
    if (doc) this.showFrame(doc.frame + delta);
  }

  deleteSelected(): void {
    const doc = this.active;
    if (!doc || doc.selected === null) return;
    const rois = this.store.rois(doc.file.index).filter((_, i) => i !== doc.selected);
    doc.selected = null;
    this.store.set(doc.file.index, rois);
    this.onChange();
  }

  setScope(scope: "frame" | "all"): void {
    this.scope = scope;
    const doc = this.active;
    if (doc && doc.selected !== null) {
      const rois = [...this.store.rois(doc.file.index)];
      const r = rois[doc.selected];
      if (r) {
        rois[doc.selected] = { ...r, frames: scopeFrames(scope, doc.frame) };
        this.store.set(doc.file.index, rois);
      }
    }
    this.onChange();
  }

  // ---- ToolHost ----

  view(): ViewState {
    return this.active?.view ?? defaultView();
  }
  setView(v: ViewState): void {
    if (!this.active) return;
    this.active.view = v;
    this.redraw();
  }
  window(): Window | null {
    const doc = this.active;
    return doc?.image?.kind === "grey" ? effectiveWindow(doc, doc.image) : null;
  }
  setWindow(w: Window): void {
    const doc = this.active;
    if (!doc) return;
    doc.preset = "manual";
    doc.manual = w;
    this.redraw();
    this.onChange();
  }
  windowUnit(): number {
    return dragUnit(modalityRange(this.active?.image ?? null));
  }
  frame(): number {
    return this.active?.frame ?? 0;
  }
  frameCount(): number {
    return this.active ? frameCount(this.active) : 1;
  }
  setFrame(f: number): void {
    this.showFrame(f);
  }
  canvasSize() {
    return this.viewport.canvasSize();
  }
  toImage(x: number, y: number): [number, number] | null {
    const img = this.active?.image;
    if (!img || !this.active) return null;
    return apply(invertAffine(this.viewport.transform(this.active.view, img)), x, y);
  }
  imageSize() {
    const img = this.active?.image;
    return img ? { rows: img.rows, columns: img.columns } : null;
  }
  imageScale(): number {
    const img = this.active?.image;
    if (!img || !this.active) return 1;
    return scaleOf(this.active.view, { width: img.columns, height: img.rows }, this.canvasSize());
  }
  rois(): readonly Roi[] {
    return this.active ? this.store.rois(this.active.file.index) : [];
  }
  setRois(rois: Roi[], save: boolean): void {
    const doc = this.active;
    if (!doc) return;
    // During a drag only the picture changes; the store (and the server) see the final box.
    if (save) this.store.set(doc.file.index, rois);
    else this.viewport.draw(this.scene(doc, rois));
  }
  selected(): number | null {
    return this.active?.selected ?? null;
  }
  select(i: number | null): void {
    if (!this.active) return;
    this.active.selected = i;
    this.redraw();
    this.onChange();
  }
  setDraft(box: [number, number, number, number] | null): void {
    this.draft = box;
    this.redraw();
  }
  newRoiFrames(): number[] {
    return scopeFrames(this.scope, this.frame());
  }
  setCursor(cursor: string): void {
    this.viewport.setCursor(cursor);
  }
}
