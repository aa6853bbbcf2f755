// The 2D drawing of boxes over the image: ROI outlines with their numbers and handles, and the
// redaction boxes, filled opaque black on every frame (SPEC §12). Pure drawing: a context, the
// scene and the image -> canvas transform (CSS pixels).

import { type Roi, visibleOn } from "../rois";
import { type Affine, apply } from "./transform";
import type { Scene } from "./viewport";

const SELECTED = "#ffd23f";
const ROI = "#39d353";
/** The outline of redaction boxes while the Redact tool edits them (the fill stays black). */
const REDACT_EDGE = "#ff5c8a";

/** Trace box `b` ([ymin, xmin, ymax, xmax], image pixels) as a closed path on the canvas. */
function trace(ctx: CanvasRenderingContext2D, t: Affine, b: readonly number[]): void {
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
}

/** The eight resize handles of a selected box. */
function handles(ctx: CanvasRenderingContext2D, t: Affine, roi: Roi, colour: string): void {
  const [ymin, xmin, ymax, xmax] = roi.box;
  const xs = [xmin, (xmin + xmax) / 2, xmax];
  const ys = [ymin, (ymin + ymax) / 2, ymax];
  ctx.fillStyle = colour;
  for (const y of ys) {
    for (const x of xs) {
      if (x === xs[1] && y === ys[1]) continue;
      const [px, py] = apply(t, x, y);
      ctx.fillRect(px - 3.5, py - 3.5, 7, 7);
    }
  }
}

function draft(ctx: CanvasRenderingContext2D, t: Affine, box: readonly number[]): void {
  trace(ctx, t, box);
  ctx.setLineDash([5, 4]);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = SELECTED;
  ctx.stroke();
  ctx.setLineDash([]);
}

export function drawRois(ctx: CanvasRenderingContext2D, s: Scene, t: Affine): void {
  s.rois.forEach((roi, i) => {
    if (!visibleOn(roi, s.frame)) return;
    const sel = i === s.selected && !s.redacting;
    trace(ctx, t, roi.box);
    ctx.lineWidth = sel ? 2 : 1.5;
    ctx.strokeStyle = sel ? SELECTED : ROI;
    ctx.stroke();
    if (sel) {
      ctx.fillStyle = "rgba(255, 210, 63, 0.12)";
      ctx.fill();
      handles(ctx, t, roi, SELECTED);
    }
    const [lx, ly] = apply(t, roi.box[1], roi.box[0]);
    ctx.fillStyle = sel ? SELECTED : ROI;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(`${i + 1}`, lx + 3, ly + 12);
  });
  if (s.draft && !s.redacting) draft(ctx, t, s.draft);
}

export function drawRedactions(ctx: CanvasRenderingContext2D, s: Scene, t: Affine): void {
  // Snapped outwards to whole device pixels: an edge antialiased to grey would let the image
  // bleed through the box's border.
  ctx.fillStyle = "#000";
  for (const roi of s.redactions) {
    if (!visibleOn(roi, s.frame)) continue;
    const [ymin, xmin, ymax, xmax] = roi.box;
    const a = apply(t, xmin, ymin);
    const b = apply(t, xmax, ymax);
    const dpr = ctx.getTransform().a || 1;
    const x0 = Math.floor(Math.min(a[0], b[0]) * dpr) / dpr;
    const y0 = Math.floor(Math.min(a[1], b[1]) * dpr) / dpr;
    const x1 = Math.ceil(Math.max(a[0], b[0]) * dpr) / dpr;
    const y1 = Math.ceil(Math.max(a[1], b[1]) * dpr) / dpr;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
  }
  if (!s.redacting) return;
  s.redactions.forEach((roi, i) => {
    const sel = i === s.redactSelected;
    trace(ctx, t, roi.box);
    ctx.lineWidth = sel ? 2 : 1;
    ctx.strokeStyle = sel ? SELECTED : REDACT_EDGE;
    ctx.stroke();
    if (sel) handles(ctx, t, roi, SELECTED);
  });
  if (s.draft) draft(ctx, t, s.draft);
}
