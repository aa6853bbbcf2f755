// Grey-level maths done in the browser: rescale, the DICOM linear window (PS3.3 C.11.2.1.2.1)
// and MONOCHROME1 inversion, in the same order and with the same rounding as the server.
// The WebGL shader mirrors `windowToByte`; the Canvas 2D path uses `buildLut`.

export interface Window {
  center: number;
  width: number;
}

export type Samples = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** Stored value to modality value. */
export function rescale(stored: number, slope: number, intercept: number): number {
  return stored * slope + intercept;
}

/** The linear window function mapped to 0..255 (a width of 1 or less is a threshold). */
export function windowToByte(x: number, w: Window): number {
  if (w.width <= 1) return x > w.center - 0.5 ? 255 : 0;
  const offset = w.center - 0.5 - (w.width - 1) / 2;
  const y = ((x - offset) * 255) / (w.width - 1);
  return Math.floor(Math.min(255, Math.max(0, y)) + 0.5);
}

/** Display byte for one stored value: rescale, window, then invert when asked. */
export function displayByte(
  stored: number,
  slope: number,
  intercept: number,
  w: Window,
  invert: boolean,
): number {
  const v = windowToByte(rescale(stored, slope, intercept), w);
  return invert ? 255 - v : v;
}

/** Smallest and largest sample of a frame (stored units). */
export function minMax(data: Samples): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return { min: 0, max: 0 };
  return { min, max };
}

/** The window spanning modality min..max (the server's "full dynamic" rule). */
export function fullDynamicWindow(
  storedMin: number,
  storedMax: number,
  slope: number,
  intercept: number,
): Window {
  const a = rescale(storedMin, slope, intercept);
  const b = rescale(storedMax, slope, intercept);
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1) };
}

/**
 * The first window of a grey frame: the file's default (DICOM Window Center/Width), else the one the
 * server chose for the display PNG, else the frame's full range.
 */
export function initialWindow(
  fileDefault: Window | null,
  serverChoice: Window | null,
  fullRange: () => Window,
): Window {
  return fileDefault ?? serverChoice ?? fullRange();
}

/**
 * W/L drag: right widens the window, down raises the centre (the image darkens). `unit` is the
 * modality change per screen pixel, scaled to the data range so 8-bit and CT data feel alike.
 */
export function dragWindow(start: Window, dx: number, dy: number, unit: number): Window {
  return { center: start.center + dy * unit, width: Math.max(1, start.width + dx * unit) };
}

/** Modality units per pixel of W/L drag for a frame whose modality range is `range`. */
export function dragUnit(range: number): number {
  return Math.max(range / 512, 1 / 64);
}

/**
 * Lookup table from stored value to display byte for 8- and 16-bit samples; `offset` is the stored
 * value of entry 0 (negative for signed data). Wider samples return null (computed per pixel).
 */
export function buildLut(
  bitsAllocated: number,
  signed: boolean,
  slope: number,
  intercept: number,
  w: Window,
  invert: boolean,
): { table: Uint8Array; offset: number } | null {
  if (bitsAllocated > 16) return null;
  const size = 1 << bitsAllocated;
  const offset = signed ? -(size >> 1) : 0;
  const table = new Uint8Array(size);
  for (let i = 0; i < size; i++) table[i] = displayByte(i + offset, slope, intercept, w, invert);
  return { table, offset };
}

/**
 * Human text for a window, W and L with the same number of decimals ("W 400 L 60",
 * "W 1283.0 L 40.5"): integers stay integers; otherwise fewer decimals the larger the values.
 */
export function formatWindow(w: Window): string {
  const big = Math.max(Math.abs(w.width), Math.abs(w.center));
  const whole = Number.isInteger(w.width) && Number.isInteger(w.center);
  const digits = whole || big >= 10_000 ? 0 : big >= 100 ? 1 : 2;
  return `W ${w.width.toFixed(digits)} L ${w.center.toFixed(digits)}`;
}
