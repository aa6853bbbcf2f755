// View geometry: image pixels <-> canvas pixels under zoom, pan, flip and 90° rotations.
// Orientation is an element of the dihedral group: first an optional mirror of image x, then
// `rot` quarter turns clockwise on screen. Flips and rotations act on what is on screen, whatever
// was done before (see `rotateView`, `flipView`).

export interface ViewState {
  /** Zoom relative to "fit to canvas" (1 = fit). */
  zoom: number;
  /** Offset of the image centre from the canvas centre, in CSS pixels. */
  panX: number;
  panY: number;
  /** Quarter turns clockwise, 0..3. */
  rot: number;
  /** Mirror image x before rotating. */
  flip: boolean;
}

/** Affine map x' = a x + c y + e, y' = b x + d y + f (the canvas setTransform order). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export interface Size {
  width: number;
  height: number;
}

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 64;

export function defaultView(): ViewState {
  return { zoom: 1, panX: 0, panY: 0, rot: 0, flip: false };
}

/** Screen size of the image once rotated. */
function rotatedSize(image: Size, rot: number): Size {
  return rot % 2 === 0 ? image : { width: image.height, height: image.width };
}

/** Canvas pixels per image pixel for this view. */
export function scaleOf(view: ViewState, image: Size, canvas: Size): number {
  const r = rotatedSize(image, view.rot);
  const fit = Math.min(canvas.width / r.width, canvas.height / r.height);
  return (Number.isFinite(fit) && fit > 0 ? fit : 1) * view.zoom;
}

const COS = [1, 0, -1, 0];
const SIN = [0, 1, 0, -1];

/** The image -> canvas transform. */
export function imageToCanvas(view: ViewState, image: Size, canvas: Size): Affine {
  const s = scaleOf(view, image, canvas);
  const k = ((view.rot % 4) + 4) % 4;
  const cos = COS[k]!;
  const sin = SIN[k]!;
  const fx = view.flip ? -1 : 1;
  // p' = centre + pan + s * R * F * (p - imageCentre)
  const a = s * cos * fx;
  const b = s * sin * fx;
  const c = -s * sin;
  const d = s * cos;
  const cx = image.width / 2;
  const cy = image.height / 2;
  const e = canvas.width / 2 + view.panX - (a * cx + c * cy);
  const f = canvas.height / 2 + view.panY - (b * cx + d * cy);
  return { a, b, c, d, e, f };
}

export function apply(m: Affine, x: number, y: number): [number, number] {
  return [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
}

export function invert(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, e: -(a * m.e + c * m.f), f: -(b * m.e + d * m.f) };
}

/** Scale an affine (e.g. CSS pixels -> device pixels). */
export function scaled(m: Affine, k: number): Affine {
  return { a: m.a * k, b: m.b * k, c: m.c * k, d: m.d * k, e: m.e * k, f: m.f * k };
}

/** Rotate what is on screen by a quarter turn (clockwise when `dir` is 1). */
export function rotateView(v: ViewState, dir: 1 | -1): ViewState {
  return { ...v, rot: (((v.rot + dir) % 4) + 4) % 4 };
}

/** Mirror what is on screen: left-right (`horizontal`) or top-bottom. */
export function flipView(v: ViewState, horizontal: boolean): ViewState {
  // H * R^k * F = R^-k * F^(h+1); V = R^2 * H.
  const k = horizontal ? -v.rot : 2 - v.rot;
  return { ...v, rot: ((k % 4) + 4) % 4, flip: !v.flip };
}

/** Zoom by `factor` keeping the image point under canvas point (x, y) where it is. */
export function zoomAt(
  v: ViewState,
  factor: number,
  x: number,
  y: number,
  canvas: Size,
): ViewState {
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom * factor));
  const k = zoom / v.zoom;
  // The image centre sits at canvasCentre + pan; scaling about (x, y) moves it by k.
  const cx = canvas.width / 2 + v.panX;
  const cy = canvas.height / 2 + v.panY;
  const ncx = x + (cx - x) * k;
  const ncy = y + (cy - y) * k;
  return { ...v, zoom, panX: ncx - canvas.width / 2, panY: ncy - canvas.height / 2 };
}

/** Orientation in words for the overlay, e.g. "90° mirrored". */
export function describeView(v: ViewState): string {
  const parts: string[] = [];
  if (v.rot) parts.push(`${v.rot * 90}°`);
  if (v.flip) parts.push("mirrored");
  return parts.join(" ");
}
