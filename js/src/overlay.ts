// Overlay text (SPEC §6): label, frame i/N, W/L, zoom in the corners; the pixel readout; and the
// same state as data-* attributes of the root element, for scripts and browser tests.

import { type Doc, frameCount } from "./doc";
import type { FrameImage } from "./frames/image";
import { presetById } from "./presets";
import { formatMm, positionLine } from "./stacks";
import { describeView } from "./viewport/transform";
import { windowSourceLabel } from "./window-source";
import { formatWindow, rescale, type Window } from "./windowing";

export interface OverlayLines {
  tl: string[];
  tr: string[];
  br: string[];
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : Number(v.toFixed(3)).toString();
}

/** The corners' text. The renderer is not named here (it is `data-renderer` on the root). */
export function overlayLines(doc: Doc, w: Window, scale: number, shutter = ""): OverlayLines {
  const tl = [doc.file.label, ...placeLines(doc)];
  const reduced = doc.image?.kind === "picture" ? doc.image.reduced : 1;
  // Never shown as if it were the frame: a reduced first paint says so until the full one.
  if (reduced > 1) tl.push(`Reduced 1/${reduced}: loading full resolution…`);
  else if (doc.loading && doc.image) tl.push("loading…");
  const img = doc.image;
  const tr: string[] = [];
  if (img?.kind === "grey" || (img?.kind === "picture" && !img.colour)) {
    const preset = doc.preset === "manual" ? "" : ` (${presetName(doc)})`;
    tr.push(`${formatWindow(w)}${preset}`);
  } else if (img) {
    tr.push("Colour");
  }
  tr.push(`Zoom ${Math.round(scale * 100)}%`);
  const orient = describeView(doc.view);
  if (orient) tr.push(orient);
  if (doc.invert) tr.push("Inverted");
  if (shutter) tr.push(shutter);
  const br: string[] = [];
  if (img) br.push(`${img.columns} × ${img.rows}`);
  const ps = doc.info?.pixel_spacing;
  if (ps && ps.length >= 2) br.push(`${fmt(ps[0]!)} × ${fmt(ps[1]!)} mm`);
  return { tl, tr, br };
}

/**
 * The preset's name. The Default preset is named by where its window came from, and claims no
 * source before that is known (the first paint, before the raw frame's window is settled).
 */
function presetName(doc: Doc): string {
  if (doc.preset === "default") {
    return doc.windowSource ? windowSourceLabel(doc.windowSource) : "Default";
  }
  return presetById(doc.preset)?.label ?? doc.preset;
}

/** Where the doc is: `image 21 / 40` (a stack) or `Frame 3/12`, and the slice position. */
function placeLines(doc: Doc): string[] {
  const seq = doc.seq;
  if (!seq) return [`Frame ${doc.frame + 1}/${frameCount(doc)}`];
  const mm = formatMm(seq.mm(doc.position));
  const line = positionLine(seq.stack.kind, doc.position, seq.length);
  return mm ? [line, mm] : [line];
}

/** Readout for image point (x, y): row, column, stored value and modality value. */
export function readout(doc: Doc, img: FrameImage, x: number, y: number): string[] {
  const col = Math.floor(x);
  const row = Math.floor(y);
  if (row < 0 || col < 0 || row >= img.rows || col >= img.columns) return [];
  const pos = `Row ${row}, Col ${col}`;
  if (img.kind !== "grey") {
    const [bx, by] = [Math.floor(col / img.reduced), Math.floor(row / img.reduced)];
    const rgb = img.colour ? pixelOf(img.bitmap, bx, by) : null;
    return rgb ? [pos, `RGB ${rgb.join(", ")}`] : [pos];
  }
  const stored = img.samples[row * img.columns + col]!;
  const value = rescale(stored, img.slope, img.intercept);
  const unit = doc.file.modality === "CT" ? "HU" : "Value";
  const same = img.slope === 1 && img.intercept === 0;
  return [pos, same ? `Stored ${stored}` : `Stored ${stored}  ${unit} ${fmt(value)}`];
}

let probe: OffscreenCanvasRenderingContext2D | null = null;

/** One pixel of a decoded colour frame (what the display PNG holds), or null if unreadable. */
function pixelOf(bitmap: ImageBitmap, x: number, y: number): [number, number, number] | null {
  if (typeof OffscreenCanvas === "undefined") return null;
  probe ??= new OffscreenCanvas(1, 1).getContext("2d", { willReadFrequently: true });
  if (!probe) return null;
  probe.clearRect(0, 0, 1, 1);
  probe.drawImage(bitmap, x, y, 1, 1, 0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return [d[0] ?? 0, d[1] ?? 0, d[2] ?? 0];
}

/** Mirror the shown state on the root element's data-* attributes (read by tests and scripts). */
export function publishState(
  el: DOMStringMap,
  doc: Doc,
  w: Window,
  scale: number,
  renderer: string,
  roiCount: number,
): void {
  const img = doc.image;
  el.state = doc.error ? "error" : doc.loading || !img ? "loading" : "ready";
  el.file = String(doc.file.index);
  el.frame = String(doc.frame);
  el.frameCount = String(frameCount(doc));
  el.shownFrame = String(doc.imageFrame);
  el.shownFile = String(doc.imageFile);
  // The stack scrolled (SPEC §9): its id, the image position in it, its length, the slice mm.
  el.stack = doc.seq?.stack.id ?? "";
  el.position = String(doc.seq ? doc.position : doc.frame);
  el.stackLength = String(doc.seq?.length ?? frameCount(doc));
  el.sliceMm = String(doc.seq?.mm(doc.position) ?? "");
  el.source = img ? (img.kind === "grey" ? "raw" : "png") : "";
  el.reduced = img?.kind === "picture" && img.reduced > 1 ? String(img.reduced) : "";
  el.wc = String(w.center);
  el.ww = String(w.width);
  el.preset = doc.preset;
  el.zoom = scale.toFixed(4);
  el.rot = String(doc.view.rot);
  el.flip = String(doc.view.flip);
  el.invert = String(doc.invert);
  el.renderer = renderer;
  el.rois = String(roiCount);
  el.selected = doc.selected === null ? "" : String(doc.selected);
}
