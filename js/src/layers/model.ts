// Layers (SPEC §10), pure: the `api/layers` entries, one layer slice as the browser holds it,
// label colour tables and colour maps for the GPU, and the value under the cursor.

import type { TransportResponse } from "../transport/types";

export interface LabelJson {
  value: number;
  name: string;
  color: string;
}

export interface LayerJson {
  id: string;
  name: string;
  kind: "labels" | "contours" | "heatmap";
  source: string;
  stack_id: string | null;
  labels: LabelJson[];
  value_range: [number, number] | null;
  units: string;
  opacity?: number;
  visible?: boolean;
  colormap?: string | null;
  matched_frames?: number;
  /** The images of the stack with a slice of this layer (the others have nothing). */
  frames?: number[];
  problem?: string | null;
}

export type LayerData = Uint8Array | Uint16Array | Float32Array;

/** One layer slice on one image (its pixel grid is the image's). */
export interface LayerFrame {
  rows: number;
  columns: number;
  dtype: "uint8" | "uint16" | "float32";
  data: LayerData;
}

/** How a layer is drawn (starts from the server's values; the panel changes it). */
export interface LayerStyle {
  visible: boolean;
  /** 0..1 */
  opacity: number;
  /** Labels and contours: outlines instead of filled areas. */
  outline: boolean;
}

export function defaultStyle(layer: LayerJson): LayerStyle {
  return {
    visible: layer.visible ?? true,
    opacity: clamp01(layer.opacity ?? 0.5),
    outline: layer.kind === "contours",
  };
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0.5;
}

/** A layer frame from an answer of `api/layer/:id/frame/:v` (null for 204: nothing there). */
export function parseLayerFrame(res: TransportResponse): LayerFrame | null {
  if (res.status === 204) return null;
  const rows = Number(res.headers["x-layer-rows"]);
  const columns = Number(res.headers["x-layer-columns"]);
  const dtype = res.headers["x-layer-dtype"];
  const n = rows * columns;
  if (!(n > 0)) throw new Error("layer frame without a size");
  const size = { uint8: 1, uint16: 2, float32: 4 }[dtype as LayerFrame["dtype"]];
  if (!size) throw new Error(`unknown layer dtype ${dtype}`);
  if (res.body.byteLength < n * size) throw new Error("layer frame cut short");
  // Little-endian on the wire, as every browser's typed arrays are.
  const data =
    dtype === "uint8"
      ? new Uint8Array(res.body, 0, n)
      : dtype === "uint16"
        ? new Uint16Array(res.body, 0, n)
        : new Float32Array(res.body, 0, n);
  return { rows, columns, dtype: dtype as LayerFrame["dtype"], data };
}

/** "#rrggbb" as [r, g, b] (black when malformed). */
export function rgb(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/** Side of the square RGBA table of label colours: 16 for uint8 values (256), 256 for uint16. */
export function lutSide(layer: LayerJson): number {
  const top = Math.max(0, ...layer.labels.map((l) => l.value));
  return top < 256 ? 16 : 256;
}

/** RGBA colours by label value (alpha 0 for 0 and for values without a label). */
export function labelTable(layer: LayerJson): Uint8Array {
  const side = lutSide(layer);
  const out = new Uint8Array(side * side * 4);
  for (const l of layer.labels) {
    if (l.value <= 0 || l.value >= side * side) continue;
    const [r, g, b] = rgb(l.color);
    out.set([r, g, b, 255], l.value * 4);
  }
  return out;
}

// Colour maps as a few stops, interpolated to 256 entries.
const MAPS: Record<string, [number, number, number][]> = {
  hot: [
    [0, 0, 0],
    [230, 0, 0],
    [255, 210, 0],
    [255, 255, 255],
  ],
  viridis: [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ],
  gray: [
    [0, 0, 0],
    [255, 255, 255],
  ],
};

export const COLORMAPS = Object.keys(MAPS);

/** 256 RGBA entries of a colour map (viridis when the name is unknown). */
export function colormapTable(name: string | null | undefined): Uint8Array {
  const stops = MAPS[name ?? ""] ?? MAPS.viridis!;
  const out = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    const a = stops[k]!;
    const b = stops[k + 1]!;
    for (let c = 0; c < 3; c++) out[i * 4 + c] = Math.round(a[c]! + (b[c]! - a[c]!) * f);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** CSS gradient of a colour map (the legend's colour bar). */
export function colormapGradient(name: string | null | undefined): string {
  const t = colormapTable(name);
  const stops: string[] = [];
  for (let i = 0; i <= 8; i++) {
    const k = Math.round((i / 8) * 255) * 4;
    stops.push(`rgb(${t[k]}, ${t[k + 1]}, ${t[k + 2]}) ${(i / 8) * 100}%`);
  }
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** The value of `frame` at (row, column), null outside or where it has none. */
export function valueAt(frame: LayerFrame, row: number, column: number): number | null {
  if (row < 0 || column < 0 || row >= frame.rows || column >= frame.columns) return null;
  const v = frame.data[row * frame.columns + column]!;
  return Number.isNaN(v) ? null : v;
}

/** The readout line of a layer under the cursor ("Liver", "2.31 Gy"), null when nothing. */
export function readoutLine(
  layer: LayerJson,
  frame: LayerFrame,
  row: number,
  column: number,
): string | null {
  const v = valueAt(frame, row, column);
  if (v === null) return null;
  if (layer.kind === "heatmap")
    return `${layer.name}: ${fmt(v)}${layer.units ? ` ${layer.units}` : ""}`;
  if (v === 0) return null;
  const label = layer.labels.find((l) => l.value === v);
  return `${layer.name}: ${label ? label.name : `label ${v}`}`;
}
