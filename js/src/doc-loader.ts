// Loading what a tab shows: the file's info and ROIs, a display PNG as the first paint, then its
// frames through the byte-budgeted cache, with the fallback from raw samples to display PNGs and
// the error a tab shows when a file or a frame cannot be shown. A tab scrolling a stack shows
// the frames of many files; each file it reaches is adopted (its ROIs loaded) by the tab.

import type { AnnotationStore } from "./annotations";
import { type Api, ApiError } from "./api";
import { type Doc, isGreyInfo } from "./doc";
import { firstPaintLevels } from "./first-paint";
import { FrameCache } from "./frames/cache";
import type { FrameImage } from "./frames/image";
import type { Place } from "./navigation";
import { ShutterCache } from "./shutters";
import { windowSource } from "./window-source";
import { fullDynamicWindow, initialWindow } from "./windowing";

/** What the loader asks of the viewer that shows the docs. */
export interface LoaderHost {
  /** Is this doc the one on screen? */
  isActive(doc: Doc): boolean;
  /** Repaint the doc on screen (`now`: synchronously, for cine). */
  redraw(now?: boolean): void;
  /** Show a message over the viewport (null clears it). */
  message(title: string | null, detail?: string): void;
  /** Show the doc's current place again (its info arrived, or it switched to pictures). */
  reshow(doc: Doc): void;
  /** Something the chrome shows changed (an error, the first picture). */
  changed(): void;
  /** The size of the view in device pixels (a large frame's first paint is reduced to it). */
  viewSize(): { width: number; height: number };
}

export class DocLoader {
  readonly cache: FrameCache;
  readonly shutters: ShutterCache;
  /** The tab that shows each file (a stack's tab shows many). */
  private readonly docs = new Map<number, Doc>();
  /** Tabs whose reduced first paint is on its way: their frames are asked for after it. */
  private readonly painting = new Map<Doc, Promise<void>>();
  /** The redaction boxes each file's cached display PNGs were painted with (JSON). */
  private readonly painted = new Map<number, string>();

  constructor(
    private readonly api: Api,
    /** The ROIs and the redaction boxes: each file's are loaded when a tab first shows it. */
    private readonly stores: readonly AnnotationStore[],
    private readonly host: LoaderHost,
  ) {
    this.cache = new FrameCache(
      (file, frame, signal) => this.load(file, frame, signal),
      undefined,
      api.transport.parallel,
    );
    this.shutters = new ShutterCache((file) => api.shutter(file));
    for (const store of stores) {
      if (store.kind === "redactions") store.onChange((file) => this.repaint(store, file));
    }
  }

  /**
   * Display PNGs have the server's redaction boxes painted in (SPEC §12). The boxes drawn over
   * the image cover new ones at once, but a box moved or removed would stay black in a picture
   * (colour) file's PNGs: once the server holds the change, fetch them again.
   */
  private repaint(store: AnnotationStore, file: number): void {
    if (store.state(file) !== "saved") return;
    const boxes = JSON.stringify(store.rois(file));
    const before = this.painted.get(file);
    this.painted.set(file, boxes);
    const doc = this.docs.get(file);
    if (before === undefined || before === boxes || doc?.mode !== "picture") return;
    this.cache.dropFile(file);
    if (doc.file.index === file) this.host.reshow(doc);
  }

  private load(file: number, frame: number, signal: AbortSignal): Promise<FrameImage> {
    if (this.docs.get(file)?.mode === "picture") return this.api.png(file, frame, true, { signal });
    return this.api.raw(file, frame, signal);
  }

  /** Fetch a new doc's info and ROIs; its frames can be shown once the info is there. */
  async start(doc: Doc): Promise<void> {
    const i = doc.file.index;
    const f = doc.frame;
    this.docs.set(i, doc);
    void this.shutters.load(doc.file);
    this.loadBoxes(doc, i);
    // A large JPEG 2000 frame's reduced picture is asked for with the info (the file list
    // knows its size and codec), and frames only once it is decoded (see show()).
    const levels = firstPaintLevels(doc.file, this.host.viewSize());
    const full = { rows: doc.file.rows ?? 0, columns: doc.file.columns ?? 0 };
    const png =
      levels > 0 ? this.api.png(i, f, false, { reduce: { levels, full } }).catch(() => null) : null;
    if (png) this.painting.set(doc, png.then(ignore));
    try {
      await this.open(doc, png);
    } finally {
      this.painting.delete(doc);
    }
  }

  private async open(doc: Doc, reduced: Promise<FrameImage | null> | null): Promise<void> {
    const i = doc.file.index;
    const f = doc.frame;
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
    if (doc.info.default_window) {
      doc.baseWindow = { ...doc.info.default_window };
      doc.windowSource = "dicom";
    }
    // First paint from the display PNG while the raw samples travel (reduced for a large
    // JPEG 2000 frame); its headers also carry the server's window for files without one.
    const png =
      reduced ?? (doc.mode === "raw" ? this.api.png(i, f, false).catch(() => null) : null);
    if (png) {
      if (doc.mode === "raw") {
        doc.serverWindow = png.then((p) =>
          p?.kind === "picture" ? { window: p.window, applied: p.applied } : null,
        );
      }
      const colour = doc.mode === "picture";
      const painted = png.then((p) => {
        if (p?.kind === "picture") p.colour = colour; // asked for before the info said
        if (p && shows(doc, i, f)) this.present(doc, p, i, f, true);
      });
      if (reduced) await painted;
    }
    this.host.reshow(doc);
  }

  /** The doc now shows `file` (a move in its stack): load that file's ROIs. */
  adopt(doc: Doc, file: number): void {
    if (this.docs.get(file) === doc) return;
    this.docs.set(file, doc);
    this.loadBoxes(doc, file);
  }

  private loadBoxes(doc: Doc, file: number): void {
    for (const store of this.stores) {
      if (store.isLoaded(file)) continue;
      const what = store.kind === "redactions" ? "Redaction boxes" : "ROIs";
      void store.load(file).catch((e: unknown) => this.fail(doc, `${what} could not be loaded`, e));
    }
  }

  /** Forget a closed doc and its frames (aborting their loads). */
  drop(doc: Doc): void {
    for (const [file, d] of [...this.docs]) {
      if (d !== doc) continue;
      this.docs.delete(file);
      this.cache.dropFile(file);
      this.shutters.drop(file);
    }
    this.docs.delete(doc.file.index);
    this.cache.dropFile(doc.file.index);
    this.shutters.drop(doc.file.index);
  }

  /**
   * Show `frame` of the doc's file (from the cache when it is there; until it is decoded the
   * image shown before stays, never a blank), then replace the prefetch queue with `prefetch`
   * when given (cine prefetches for itself and passes null).
   */
  show(doc: Doc, frame: number, prefetch: readonly Place[] | null): void {
    doc.frame = frame;
    const file = doc.file.index;
    const painting = this.painting.get(doc);
    if (painting) {
      // A reduced first paint is being decoded: on the server its decoder and a full one both
      // hold the GIL, and a full decode started first (seconds) would hold the first paint up.
      void painting.then(() => {
        if (shows(doc, file, frame)) this.show(doc, frame, prefetch);
      });
      return;
    }
    const img = this.cache.peek(file, frame);
    if (img) this.present(doc, img, file, frame);
    else {
      doc.loading = true;
      this.host.redraw();
      this.cache.get(file, frame).then(
        (im) => {
          if (shows(doc, file, frame)) this.present(doc, im, file, frame);
        },
        (e: unknown) => this.frameFailed(doc, file, frame, e),
      );
    }
    if (prefetch) this.prefetch(doc, prefetch);
  }

  /** Replace the prefetch queue with these frames of the doc (and load their files' ROIs). */
  prefetch(doc: Doc, places: readonly Place[]): void {
    // Adopted first: a file's frames load the doc's way (raw samples or pictures).
    for (const p of places) this.adopt(doc, p.file);
    this.cache.prefetch(places);
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
    if (this.host.isActive(doc)) {
      this.host.message(title, detail);
      this.host.redraw();
    }
    this.host.changed();
  }

  private frameFailed(doc: Doc, file: number, frame: number, e: unknown): void {
    if (e instanceof DOMException && e.name === "AbortError") return;
    if (doc.mode === "raw" && !(e instanceof ApiError)) {
      // Samples the browser cannot window (an unusual layout): fall back to display PNGs.
      doc.mode = "picture";
      for (const [f, d] of this.docs) if (d === doc) this.cache.dropFile(f);
      this.cache.dropFile(file);
      if (shows(doc, file, frame)) this.host.reshow(doc);
      return;
    }
    if (shows(doc, file, frame)) this.fail(doc, `Frame ${frame + 1} cannot be shown`, e);
  }

  /**
   * Put `img` on screen for the doc. A `firstPaint` (the display PNG shown while the frame
   * travels) never replaces an image already shown, also when it had to wait (for the shutter,
   * for the server's window) and the frame came meanwhile.
   */
  private present(
    doc: Doc,
    img: FrameImage,
    file: number,
    frame: number,
    firstPaint = false,
  ): void {
    if (firstPaint && doc.image) return;
    if (doc.file.index === file && this.shutters.peek(doc.file) === undefined) {
      // Never an image without the shutter it has: wait for the shutter's picture first.
      void this.shutters.load(doc.file).then(() => {
        if (shows(doc, file, frame)) this.present(doc, img, file, frame, firstPaint);
      });
      return;
    }
    if (img.kind === "grey" && !doc.baseWindow) {
      if (img.defaultWindow) {
        doc.baseWindow = img.defaultWindow;
        doc.windowSource = "dicom";
      } else {
        void (doc.serverWindow ?? Promise.resolve(null)).then((server) => {
          if (!doc.baseWindow) {
            const choice = server && { applied: server.applied, hasWindow: !!server.window };
            doc.windowSource = windowSource(false, choice);
            doc.baseWindow = initialWindow(null, server?.window ?? null, () =>
              fullDynamicWindow(img.min, img.max, img.slope, img.intercept),
            );
          }
          if (shows(doc, file, frame)) this.present(doc, img, file, frame, firstPaint);
        });
        return;
      }
    }
    const first = doc.image === null || doc.image.kind !== img.kind;
    doc.image = img;
    doc.imageFile = file;
    doc.imageFrame = frame;
    doc.loading = false;
    if (doc.error) {
      doc.error = null;
      if (this.host.isActive(doc)) this.host.message(null);
    }
    if (this.host.isActive(doc)) this.host.redraw(true);
    if (first) this.host.changed();
  }
}

function ignore(): void {}

/** Is this file and frame still the one the doc wants on screen? */
function shows(doc: Doc, file: number, frame: number): boolean {
  return doc.file.index === file && doc.frame === frame;
}
