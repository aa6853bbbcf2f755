// The viewer of the open files: the tabs and their state, the one `navigate()` every change of
// file or frame goes through, cine playback, the view commands, the painting of the active tab,
// and the tools' host. It announces its own changes on `changes`. Once `api/series` is known a
// tab scrolls its file's stack (SPEC §9): the tab's view state stays, its shown file changes.

import type { AnnotationStore } from "./annotations";
import type { Api } from "./api";
import { type Doc, effectiveWindow, frameCount, modalityRange, newDoc } from "./doc";
import { DocLoader } from "./doc-loader";
import type { ToolId } from "./keys";
import type { LayerDraw, LayerSet } from "./layers/layer-set";
import { readoutLine } from "./layers/model";
import {
  type Cause,
  clampPosition,
  fileFrames,
  type Move,
  nearby,
  placesAt,
  type Sequence,
} from "./navigation";
import { overlayLines, publishState, readout } from "./overlay";
import { Playback } from "./playback";
import { type PresetId, presetById } from "./presets";
import { type Roi, scopeFrames } from "./rois";
import { hasShutter, shutterLine } from "./shutters";
import { Signal } from "./signal";
import { neighbourStack, StackIndex, type StackSequence } from "./stacks";
import type { ToolHost } from "./tools/types";
import type { FileSummary, SeriesResponse } from "./types";
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
import { dragUnit, type Window } from "./windowing";

/** Images prefetched ahead of the shown one while moving through a stack (wheel, keys). */
const STACK_AHEAD = 8;

export class Viewer implements ToolHost {
  readonly docs: Doc[] = [];
  active: Doc | null = null;
  tool: ToolId = "wl";
  scope: "frame" | "all" = "all";
  /** Display shutters blank what they cover (SPEC §12); off, the user looks under them. */
  showShutter = true;
  /** Fired after every change the chrome (toolbar, tabs, frame bar) or a host may show. */
  readonly changes = new Signal();
  readonly playback: Playback;
  private readonly loader: DocLoader;
  private draft: [number, number, number, number] | null = null;
  private hoverPoint: [number, number] | null = null;
  /** The file list (for the summaries of the files a stack moves to, and explorer order). */
  private files: readonly FileSummary[] = [];
  private readonly fileByIndex = new Map<number, FileSummary>();
  private stacks: StackIndex | null = null;
  private explorerOrder: StackSequence[] | null = null;

  constructor(
    api: Api,
    readonly store: AnnotationStore,
    /** The redaction boxes (SPEC §12): the Redact tool edits them, the viewport blacks them. */
    readonly redactions: AnnotationStore,
    readonly viewport: Viewport,
    private readonly stateEl: HTMLElement,
    /** Layers over the stacks (SPEC §10); drawn with the image they lie on. */
    readonly layers: LayerSet | null = null,
  ) {
    this.loader = new DocLoader(api, [store, redactions], {
      isActive: (doc) => this.active === doc,
      redraw: (now) => this.redraw(now),
      message: (title, detail) => this.viewport.showMessage(title, detail ?? ""),
      reshow: (doc) => {
        if (this.active === doc) this.go(positionIn(doc), false, true);
        this.changes.emit();
      },
      changed: () => this.changes.emit(),
      viewSize: () => {
        const size = this.viewport.canvasSize();
        const dpr = window.devicePixelRatio || 1;
        return { width: size.width * dpr, height: size.height * dpr };
      },
    });
    this.playback = new Playback({
      length: () => this.length(),
      position: () => this.position(),
      ready: (i) => {
        const p = this.sequence()?.at(i);
        return !!p && this.loader.cache.has(p.file, p.frame);
      },
      show: (i) => this.navigate({ kind: "to", position: i }, "cine"),
      prefetch: (positions) => {
        const seq = this.sequence();
        if (seq && this.active) this.loader.prefetch(this.active, placesAt(seq, positions));
      },
      changed: () => this.changes.emit(),
    });
    this.viewport.onResize = () => this.redraw();
    // Most slices arrive ahead of scrolling: only one for the image on screen repaints it.
    layers?.arrived.subscribe((at) => {
      const shown = this.active ? this.shownPlace(this.active) : null;
      if (shown && shown.stack === at.stack && shown.position === at.position) this.redraw();
    });
    layers?.changes.subscribe(() => {
      this.redraw();
      this.changes.emit();
    });
    for (const boxes of [store, redactions]) {
      boxes.onChange((file) => {
        if (this.active?.file.index === file) this.redraw();
      });
    }
  }

  // ---- navigation: every change of file or frame ----

  /** Go somewhere: a person's move stops cine first (once, here, whatever the move). */
  navigate(move: Move, cause: Cause = "user"): void {
    if (cause === "user") this.playback.stop();
    switch (move.kind) {
      case "open":
        this.activate(this.docFor(move.file));
        break;
      case "tab":
        this.activate(move.doc);
        break;
      case "close":
        this.close(move.doc);
        break;
      case "step":
        this.go(this.position() + move.delta, false, true);
        break;
      case "to":
        this.go(move.position, true, cause !== "cine");
        break;
      case "stack":
        this.stepStack(move.delta);
        break;
    }
    this.changes.emit();
  }

  /** The file list arrived or grew. */
  setFiles(files: readonly FileSummary[]): void {
    this.files = files;
    this.fileByIndex.clear();
    for (const f of files) this.fileByIndex.set(f.index, f);
    this.explorerOrder = null;
  }

  /** `api/series` arrived: every tab scrolls its file's stack from now on, at the same image. */
  setSeries(answer: SeriesResponse): void {
    this.stacks = new StackIndex(answer);
    this.explorerOrder = null;
    for (const doc of this.docs) {
      const at = doc.seq ? null : this.stacks.find({ file: doc.file.index, frame: doc.frame });
      if (!at) continue;
      doc.seq = at.seq;
      doc.position = at.position;
    }
    if (this.active?.info) this.go(positionIn(this.active), false, true);
    this.changes.emit();
  }

  /** The places the frame moves walk in the active tab (null without one). */
  private sequence(): Sequence | null {
    const doc = this.active;
    if (!doc) return null;
    return doc.seq ?? fileFrames(doc.file.index, frameCount(doc));
  }

  /** Position in the active sequence (the image of a stack; a file's frame without one). */
  position(): number {
    return this.active ? positionIn(this.active) : 0;
  }

  /** The position of a file's frame in the active sequence (a host naming file and frame). */
  positionOf(file: number, frame: number): number {
    const doc = this.active;
    const at = this.stacks?.find({ file, frame });
    if (doc?.seq && at && at.seq === doc.seq) return at.position;
    return frame;
  }

  /** Open the previous or next stack in explorer order (its tab if open, else its first image). */
  private stepStack(delta: number): void {
    if (!this.stacks) return;
    this.explorerOrder ??= this.stacks.explorerOrder(this.files);
    const next = neighbourStack(this.explorerOrder, this.active?.seq ?? null, delta);
    if (!next || next === this.active?.seq) return;
    const open = this.docs.find((d) => d.seq === next);
    if (open) {
      this.activate(open);
      return;
    }
    const file = this.fileByIndex.get(next.at(0).file);
    if (file) this.activate(this.docFor(file, next.at(0).frame));
  }

  length(): number {
    return this.sequence()?.length ?? 0;
  }

  /**
   * Show position i (clamped) of the active sequence. Before the file's info arrives there is
   * nothing to show; a position asked for (`remember`) is kept and shown when it comes.
   */
  private go(i: number, remember: boolean, prefetch: boolean): void {
    const doc = this.active;
    const seq = this.sequence();
    if (!doc || !seq) return;
    if (!doc.info) {
      if (remember && doc.seq) doc.position = clampPosition(seq, i);
      else if (remember) doc.frame = Math.max(0, i);
      return;
    }
    const at = clampPosition(seq, i);
    const dir = at < positionIn(doc) ? -1 : 1;
    const place = seq.at(at);
    if (doc.seq) doc.position = at;
    if (place.file !== doc.file.index) {
      const file = this.fileByIndex.get(place.file);
      if (!file) return;
      doc.file = file;
      // A selection is an index into the boxes of the file it was made on.
      doc.selected = null;
      doc.redactSelected = null;
      this.loader.adopt(doc, file.index);
    }
    const ahead = doc.seq ? STACK_AHEAD : 2;
    this.loader.show(doc, place.frame, prefetch ? nearby(seq, at, dir, ahead) : null);
    if (doc.seq && this.layers) {
      // The layers' slices of the images ahead load with them: scrolling finds both.
      const positions = [at];
      for (let k = 1; k <= (prefetch ? ahead : 0); k++) positions.push(at + dir * k);
      this.layers.prefetch(doc.seq.stack.id, positions);
    }
  }

  /** The stack and position of the image on screen (null: not in a known stack). */
  private shownPlace(doc: Doc): { stack: string; position: number } | null {
    if (!doc.image || !this.stacks) return null;
    const at = this.stacks.find({ file: doc.imageFile, frame: doc.imageFrame });
    return at ? { stack: at.seq.stack.id, position: at.position } : null;
  }

  /** The layers to draw over the image on screen (only slices of that very image). */
  private layerDraws(doc: Doc | null): readonly LayerDraw[] {
    const at = doc && this.layers ? this.shownPlace(doc) : null;
    return at && this.layers ? this.layers.draws(at.stack, at.position) : [];
  }

  /** The stack id of the active tab (the layers panel lists the layers on it). */
  activeStack(): string | null {
    return this.active?.seq?.stack.id ?? null;
  }

  /**
   * The tab that shows this file (frame `frame`): the tab of its stack, moved to the file's
   * image, or a new one.
   */
  private docFor(file: FileSummary, frame = 0): Doc {
    const at =
      this.stacks?.find({ file: file.index, frame }) ?? this.stacks?.ofFile(file.index) ?? null;
    let doc = this.docs.find((d) => (at && d.seq === at.seq) || d.file.index === file.index);
    if (doc) {
      if (at && doc.seq === at.seq && doc.file.index !== file.index) doc.position = at.position;
      return doc;
    }
    doc = newDoc(file);
    if (at) {
      doc.seq = at.seq;
      doc.position = at.position;
      doc.frame = at.seq.at(at.position).frame;
    }
    this.docs.push(doc);
    void this.loader.start(doc);
    return doc;
  }

  private activate(doc: Doc): void {
    this.active = doc;
    this.viewport.resetRenderer();
    this.viewport.showMessage(doc.error?.title ?? null, doc.error?.detail ?? "");
    this.redraw();
    if (doc.info) this.go(positionIn(doc), false, true);
  }

  private close(doc: Doc): void {
    const i = this.docs.indexOf(doc);
    if (i < 0) return;
    this.docs.splice(i, 1);
    this.loader.drop(doc);
    if (this.active !== doc) return;
    const next = this.docs[Math.min(i, this.docs.length - 1)] ?? null;
    if (next) this.activate(next);
    else {
      this.active = null;
      this.viewport.showMessage("No file open", "Choose a file in the explorer.");
      this.redraw();
    }
  }

  // ---- painting ----

  /** Repaint the active doc (`now` paints synchronously, for cine). */
  redraw(now = false): void {
    const scene = this.scene(this.active);
    if (now) this.viewport.drawNow(scene);
    else this.viewport.draw(scene);
    this.updateOverlay();
  }

  /**
   * What the viewport shows for a doc; `rois` overrides the stored boxes the tools edit (ROIs,
   * or redactions with the Redact tool) during a drag.
   */
  private scene(doc: Doc | null, rois?: readonly Roi[]): Scene {
    const img = doc?.image ?? null;
    const redacting = this.tool === "redact";
    const stored = (boxes: AnnotationStore) => (doc ? boxes.rois(doc.file.index) : []);
    return {
      image: img,
      view: doc?.view ?? defaultView(),
      window: doc ? effectiveWindow(doc, img) : { center: 0, width: 1 },
      invert: doc?.invert ?? false,
      rois: (!redacting && rois) || stored(this.store),
      redactions: (redacting && rois) || stored(this.redactions),
      redacting,
      frame: doc?.frame ?? 0,
      selected: doc?.selected ?? null,
      redactSelected: doc?.redactSelected ?? null,
      draft: this.draft,
      shutter: img && doc && this.showShutter ? this.shutterOf(doc) : null,
      layers: this.layerDraws(doc),
    };
  }

  /** The shutter picture of the file whose image is on screen (null: none, or not loaded). */
  private shutterOf(doc: Doc): ImageBitmap | null {
    const shown = this.fileByIndex.get(doc.imageFile) ?? doc.file;
    return this.loader.shutters.peek(shown) ?? null;
  }

  /** The summary of the file whose image is on screen. */
  shownFile(): FileSummary | null {
    const doc = this.active;
    if (!doc) return null;
    return this.fileByIndex.get(doc.imageFile) ?? doc.file;
  }

  private updateOverlay(): void {
    const doc = this.active;
    const el = this.stateEl.dataset;
    if (!doc) {
      for (const c of ["tl", "tr", "bl", "br"] as const) this.viewport.setCorner(c, []);
      el.state = "empty";
      return;
    }
    const w = effectiveWindow(doc, doc.image);
    const scale = doc.image ? this.imageScale() : 1;
    const shown = this.shownFile() ?? doc.file;
    const lines = overlayLines(doc, w, scale, shutterLine(shown, this.showShutter));
    this.viewport.setCorner("tl", lines.tl);
    this.viewport.setCorner("tr", lines.tr);
    this.viewport.setCorner("br", lines.br);
    this.viewport.setCorner("bl", this.readoutLines());
    const rois = this.store.rois(doc.file.index).length;
    publishState(el, doc, w, scale, this.viewport.rendererKind, rois);
    el.redactions = String(this.redactions.rois(doc.file.index).length);
    el.shutter = hasShutter(shown) ? (this.showShutter ? "on" : "off") : "";
    // Which layers are drawn on the image shown, for scripts and tests.
    el.layersShown = this.layerDraws(doc)
      .map((d) => d.layer.id)
      .join(" ");
  }

  private readoutLines(): string[] {
    const doc = this.active;
    if (!doc?.image || !this.hoverPoint) return [];
    const p = this.toImage(...this.hoverPoint);
    if (!p) return [];
    const lines = readout(doc, doc.image, p[0], p[1]);
    const at = this.shownPlace(doc);
    if (lines.length && at && this.layers) {
      for (const { layer, frame } of this.layers.loaded(at.stack, at.position)) {
        const line = readoutLine(layer, frame, Math.floor(p[1]), Math.floor(p[0]));
        if (line) lines.push(line);
      }
    }
    return lines;
  }

  hover(point: [number, number] | null): void {
    this.hoverPoint = point;
    this.viewport.setCorner("bl", this.readoutLines());
  }

  // ---- view commands (toolbar, keys, host) ----

  /** Change the active doc, repaint it and announce the change. */
  private edit(change: (doc: Doc) => void): void {
    const doc = this.active;
    if (!doc) return;
    change(doc);
    this.redraw();
    this.changes.emit();
  }

  setTool(tool: ToolId): void {
    this.tool = tool;
    this.redraw(); // redaction boxes show their outlines while the Redact tool edits them
    this.changes.emit();
  }

  /** The boxes the pointer tools and Delete edit: redactions with the Redact tool, else ROIs. */
  private editing(): AnnotationStore {
    return this.tool === "redact" ? this.redactions : this.store;
  }

  setPreset(id: PresetId): void {
    const p = presetById(id);
    if (!p) return;
    this.edit((doc) => {
      doc.preset = id;
      doc.manual =
        p.center !== undefined && p.width !== undefined
          ? { center: p.center, width: p.width }
          : null;
    });
  }

  /** Show or hide the display shutters (of every tab). */
  toggleShutter(): void {
    this.showShutter = !this.showShutter;
    this.redraw();
    this.changes.emit();
  }

  toggleInvert(): void {
    this.edit((doc) => {
      doc.invert = !doc.invert;
    });
  }

  rotate(dir: 1 | -1): void {
    if (this.active) this.setView(rotateView(this.active.view, dir));
  }

  flip(horizontal: boolean): void {
    if (this.active) this.setView(flipView(this.active.view, horizontal));
  }

  /** Reset view, window and inversion of the active file. */
  reset(): void {
    this.edit((doc) => {
      doc.view = defaultView();
      doc.preset = "default";
      doc.manual = null;
      doc.invert = false;
    });
  }

  deleteSelected(): void {
    const selected = this.selected();
    if (selected === null) return;
    if (this.tool === "redact") this.deleteBox(this.redactions, selected);
    else this.deleteRoi(selected);
  }

  /** Delete ROI `i` of the active file (the selection follows the ROIs that stay). */
  deleteRoi(i: number): void {
    this.deleteBox(this.store, i);
  }

  private deleteBox(boxes: AnnotationStore, i: number): void {
    const doc = this.active;
    if (!doc) return;
    const key = boxes === this.store ? "selected" : "redactSelected";
    const rois = boxes.rois(doc.file.index).filter((_, j) => j !== i);
    const sel = doc[key];
    if (sel === i) doc[key] = null;
    else if (sel !== null && sel > i) doc[key] = sel - 1;
    boxes.set(doc.file.index, rois);
    this.changes.emit();
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
    this.changes.emit();
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
    this.edit((doc) => {
      doc.preset = "manual";
      doc.manual = w;
    });
  }
  windowUnit(): number {
    return dragUnit(modalityRange(this.active?.image ?? null));
  }
  frame(): number {
    return this.active?.frame ?? 0;
  }
  seek(position: number): void {
    this.navigate({ kind: "to", position }, "seek");
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
    return this.active ? this.editing().rois(this.active.file.index) : [];
  }
  setRois(rois: Roi[], save: boolean): void {
    const doc = this.active;
    if (!doc) return;
    // During a drag only the picture changes; the store (and the server) see the final box.
    if (save) this.editing().set(doc.file.index, rois);
    else this.viewport.draw(this.scene(doc, rois));
  }
  selected(): number | null {
    const doc = this.active;
    return (this.tool === "redact" ? doc?.redactSelected : doc?.selected) ?? null;
  }
  select(i: number | null): void {
    this.edit((doc) => {
      if (this.tool === "redact") doc.redactSelected = i;
      else doc.selected = i;
    });
  }
  setDraft(box: [number, number, number, number] | null): void {
    this.draft = box;
    this.redraw();
  }
  newRoiFrames(): number[] {
    // A redaction box covers every frame of its file (SPEC §12).
    return this.tool === "redact" ? [] : scopeFrames(this.scope, this.frame());
  }
  setCursor(cursor: string): void {
    this.viewport.setCursor(cursor);
  }
}

/** A doc's position in its sequence: the image of its stack, else its frame. */
function positionIn(doc: Doc): number {
  return doc.seq ? doc.position : doc.frame;
}
