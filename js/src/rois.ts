// ROI geometry, pure: boxes are [ymin, xmin, ymax, xmax] in image pixels with exclusive max edges
// (EMBED convention, SPEC §5), so a box always covers whole pixels and `ymax == rows` is valid.

import type { AnnotationPayload } from "./types";

export type Box = [number, number, number, number];

export interface Roi {
  box: Box;
  /** Zero-based frames the ROI belongs to; empty = all frames. */
  frames: number[];
}

export type Handle = "n" | "s" | "e" | "w" | "ne" | "nw" | "se" | "sw";
export type HitPart = "body" | Handle;

export interface Hit {
  index: number;
  part: HitPart;
}

export interface ImageSize {
  rows: number;
  columns: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The box spanned by two image points (any order), snapped outwards to whole pixels, clamped. */
export function boxFromPoints(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  size: ImageSize,
): Box | null {
  const ymin = clamp(Math.floor(Math.min(y0, y1)), 0, size.rows);
  const xmin = clamp(Math.floor(Math.min(x0, x1)), 0, size.columns);
  const ymax = clamp(Math.ceil(Math.max(y0, y1)), 0, size.rows);
  const xmax = clamp(Math.ceil(Math.max(x0, x1)), 0, size.columns);
  if (ymax <= ymin || xmax <= xmin) return null;
  return [ymin, xmin, ymax, xmax];
}

/** Is the ROI shown on this frame? */
export function visibleOn(roi: Roi, frame: number): boolean {
  return roi.frames.length === 0 || roi.frames.includes(frame);
}

/** Frame list for a scope: this frame only, or all frames. */
export function scopeFrames(scope: "frame" | "all", frame: number): number[] {
  return scope === "all" ? [] : [frame];
}

/**
 * What is under image point (x, y)? Handles (corners, then edges) of the selected ROI win, then the
 * topmost visible ROI whose edge or inside contains the point. `tol` is in image pixels.
 */
export function hitTest(
  rois: readonly Roi[],
  frame: number,
  x: number,
  y: number,
  tol: number,
  selected: number | null,
): Hit | null {
  if (selected !== null) {
    const roi = rois[selected];
    if (roi && visibleOn(roi, frame)) {
      const h = handleAt(roi.box, x, y, tol);
      if (h) return { index: selected, part: h };
    }
  }
  for (let i = rois.length - 1; i >= 0; i--) {
    const roi = rois[i]!;
    if (!visibleOn(roi, frame)) continue;
    const [ymin, xmin, ymax, xmax] = roi.box;
    if (x >= xmin - tol && x <= xmax + tol && y >= ymin - tol && y <= ymax + tol) {
      return { index: i, part: "body" };
    }
  }
  return null;
}

/** The resize handle of a box near (x, y), if any. */
export function handleAt(box: Box, x: number, y: number, tol: number): Handle | null {
  const [ymin, xmin, ymax, xmax] = box;
  const nearX = (v: number) => Math.abs(x - v) <= tol;
  const nearY = (v: number) => Math.abs(y - v) <= tol;
  const inX = x >= xmin - tol && x <= xmax + tol;
  const inY = y >= ymin - tol && y <= ymax + tol;
  const n = nearY(ymin) && inX;
  const s = nearY(ymax) && inX;
  const w = nearX(xmin) && inY;
  const e = nearX(xmax) && inY;
  if (n && w) return "nw";
  if (n && e) return "ne";
  if (s && w) return "sw";
  if (s && e) return "se";
  if (n) return "n";
  if (s) return "s";
  if (w) return "w";
  if (e) return "e";
  return null;
}

/** Move a box by whole pixels, keeping it inside the image. */
export function moveBox(box: Box, dy: number, dx: number, size: ImageSize): Box {
  const [ymin, xmin, ymax, xmax] = box;
  const h = ymax - ymin;
  const w = xmax - xmin;
  const ny = clamp(Math.round(ymin + dy), 0, size.rows - h);
  const nx = clamp(Math.round(xmin + dx), 0, size.columns - w);
  return [ny, nx, ny + h, nx + w];
}

/**
 * Drag a handle of `box` to image point (x, y): the named edges follow the point (rounded to pixel
 * edges), a crossed-over box is normalised, the result is clamped and at least one pixel wide.
 */
export function resizeBox(box: Box, handle: Handle, x: number, y: number, size: ImageSize): Box {
  let [ymin, xmin, ymax, xmax] = box;
  const ry = clamp(Math.round(y), 0, size.rows);
  const rx = clamp(Math.round(x), 0, size.columns);
  if (handle.includes("n")) ymin = ry;
  if (handle.includes("s")) ymax = ry;
  if (handle.includes("w")) xmin = rx;
  if (handle.includes("e")) xmax = rx;
  const y0 = Math.min(ymin, ymax);
  const y1 = Math.max(ymin, ymax);
  const x0 = Math.min(xmin, xmax);
  const x1 = Math.max(xmin, xmax);
  const fy = y1 > y0 ? [y0, y1] : y0 >= size.rows ? [size.rows - 1, size.rows] : [y0, y0 + 1];
  const fx =
    x1 > x0 ? [x0, x1] : x0 >= size.columns ? [size.columns - 1, size.columns] : [x0, x0 + 1];
  return [fy[0]!, fx[0]!, fy[1]!, fx[1]!];
}

/** ROIs -> the API/CSV payload. */
export function toPayload(rois: readonly Roi[]): AnnotationPayload {
  return {
    num_roi: rois.length,
    roi_coords: rois.map((r) => [...r.box]),
    roi_frames: rois.map((r) => [...r.frames].sort((a, b) => a - b)),
  };
}

/** The API payload -> ROIs (missing frame lists mean all frames). */
export function fromPayload(p: AnnotationPayload): Roi[] {
  return p.roi_coords.map((c, i) => ({
    box: [c[0] ?? 0, c[1] ?? 0, c[2] ?? 0, c[3] ?? 0],
    frames: [...(p.roi_frames[i] ?? [])],
  }));
}

/** The CSS cursor for a hit part. */
export function cursorFor(part: HitPart | null): string {
  switch (part) {
    case "n":
    case "s":
      return "ns-resize";
    case "e":
    case "w":
      return "ew-resize";
    case "ne":
    case "sw":
      return "nesw-resize";
    case "nw":
    case "se":
      return "nwse-resize";
    case "body":
      return "move";
    default:
      return "crosshair";
  }
}

/** A box as the ROI list shows it: `[ymin, xmin, ymax, xmax]`, the CSV's order. */
export function boxText(box: Box): string {
  return `[${box.join(", ")}]`;
}

/** An ROI's frame scope in words, frames counted from 1 as in the frame bar and overlay. */
export function scopeText(roi: Roi, most = 4): string {
  if (!roi.frames.length) return "all frames";
  const shown = roi.frames.slice(0, most).map((f) => String(f + 1));
  const more = roi.frames.length > most ? ` +${roi.frames.length - most}` : "";
  return `${roi.frames.length === 1 ? "frame" : "frames"} ${shown.join(", ")}${more}`;
}
