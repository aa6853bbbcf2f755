// Decoded frames as the viewer holds them: grey samples (windowed in the browser) or a picture
// already in display form (colour frames, and the display PNG used for the first paint).

import type { TransportResponse } from "../transport/types";
import { minMax, type Samples, type Window } from "../windowing";

export interface GreyImage {
  kind: "grey";
  rows: number;
  columns: number;
  bitsAllocated: number;
  signed: boolean;
  samples: Samples;
  slope: number;
  intercept: number;
  monochrome1: boolean;
  /** The file's Window Center/Width when it has one. */
  defaultWindow: Window | null;
  /** Stored-value range of this frame. */
  min: number;
  max: number;
}

export interface PictureImage {
  kind: "picture";
  /** The frame's size: the bitmap is smaller when `reduced` > 1 (drawn stretched to it). */
  rows: number;
  columns: number;
  bitmap: ImageBitmap;
  /** 1 for the full frame; 2^n for a reduced-resolution first paint (`X-Frame-Reduce: n`). */
  reduced: number;
  /** The linear window the server applied (grey display PNGs), if any. */
  window: Window | null;
  /** `X-Frame-Window-Applied` (`linear`, `voi_lut`, `full_dynamic`), when sent. */
  applied: string | null;
  /** True for colour frames; false for a grey frame's display PNG. */
  colour: boolean;
}

export type FrameImage = GreyImage | PictureImage;

export function byteSize(img: FrameImage): number {
  return img.kind === "grey" ? img.samples.byteLength : img.bitmap.width * img.bitmap.height * 4;
}

function num(h: Record<string, string>, name: string): number | null {
  const v = h[name];
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** The window described by a pair of headers, when both are present and valid. */
export function windowFromHeaders(
  h: Record<string, string>,
  centre: string,
  width: string,
): Window | null {
  const c = num(h, centre);
  const w = num(h, width);
  return c !== null && w !== null && w > 0 ? { center: c, width: w } : null;
}

/** A `api/file/i/frame/f/raw` response as a GreyImage (throws on a layout the viewer cannot show). */
export function parseRaw(res: TransportResponse): GreyImage {
  const h = res.headers;
  const rows = num(h, "x-frame-rows") ?? 0;
  const columns = num(h, "x-frame-columns") ?? 0;
  const bits = num(h, "x-frame-bits-allocated") ?? 16;
  const signed = num(h, "x-frame-pixel-representation") === 1;
  const spp = num(h, "x-frame-samples-per-pixel") ?? 1;
  const pi = (h["x-frame-photometric-interpretation"] ?? "MONOCHROME2").trim().toUpperCase();
  if (spp !== 1) throw new Error(`Raw frame has ${spp} samples per pixel; expected grey.`);
  const n = rows * columns;
  const buf = res.body;
  let samples: Samples;
  if (bits === 8) samples = signed ? new Int8Array(buf, 0, n) : new Uint8Array(buf, 0, n);
  else if (bits === 16) samples = signed ? new Int16Array(buf, 0, n) : new Uint16Array(buf, 0, n);
  else if (bits === 32) samples = signed ? new Int32Array(buf, 0, n) : new Uint32Array(buf, 0, n);
  else throw new Error(`Raw frames with ${bits} bits allocated are not supported.`);
  const { min, max } = minMax(samples);
  return {
    kind: "grey",
    rows,
    columns,
    bitsAllocated: bits,
    signed,
    samples,
    slope: num(h, "x-frame-rescale-slope") ?? 1,
    intercept: num(h, "x-frame-rescale-intercept") ?? 0,
    monochrome1: pi === "MONOCHROME1",
    defaultWindow: windowFromHeaders(h, "x-frame-default-wc", "x-frame-default-ww"),
    min,
    max,
  };
}

/**
 * A display PNG response as a picture. A reduced-resolution one (`X-Frame-Reduce`) keeps the
 * frame's own size (`full`), so that everything drawn over it stays in frame pixels.
 */
export async function parsePng(
  res: TransportResponse,
  colour: boolean,
  full: { rows: number; columns: number } | null = null,
): Promise<PictureImage> {
  const bitmap = await createImageBitmap(new Blob([res.body], { type: "image/png" }));
  const levels = num(res.headers, "x-frame-reduce") ?? 0;
  const reduced = levels > 0 && full ? 2 ** levels : 1;
  return {
    kind: "picture",
    rows: reduced > 1 && full ? full.rows : bitmap.height,
    columns: reduced > 1 && full ? full.columns : bitmap.width,
    bitmap,
    reduced,
    window: windowFromHeaders(res.headers, "x-frame-window-center", "x-frame-window-width"),
    applied: res.headers["x-frame-window-applied"]?.trim() || null,
    colour,
  };
}
