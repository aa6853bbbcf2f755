// One open file (a tab): its display state, and the pure rules for the window in effect.

import type { FrameImage } from "./frames/image";
import type { PresetId } from "./presets";
import type { StackSequence } from "./stacks";
import type { FileInfo, FileSummary } from "./types";
import { defaultView, type ViewState } from "./viewport/transform";
import type { WindowSource } from "./window-source";
import { fullDynamicWindow, type Window } from "./windowing";

export interface Doc {
  /** The file shown: in a stack, the file of the image at `position`. */
  file: FileSummary;
  /** The stack the tab scrolls (null until `api/series` is known, or for a file in none). */
  seq: StackSequence | null;
  /** Position in `seq` (the frame when there is no stack). */
  position: number;
  info: FileInfo | null;
  /** "raw": grey samples windowed here; "picture": display PNGs (colour, or raw unusable). */
  mode: "raw" | "picture";
  frame: number;
  view: ViewState;
  /** The preset in effect; "manual" after a W/L drag. */
  preset: PresetId | "manual";
  /** The window of a listed preset or of a W/L drag. */
  manual: Window | null;
  /** The file's initial window (SPEC: default, else the server's choice, else min/max). */
  baseWindow: Window | null;
  /** Where `baseWindow` came from (named in the overlay); null until it is known. */
  windowSource: WindowSource | null;
  /** The server's window for the display PNG (and how it chose it), once asked. */
  serverWindow: Promise<{ window: Window | null; applied: string | null } | null> | null;
  invert: boolean;
  /** What is on screen (may be an earlier frame while the next one loads). */
  image: FrameImage | null;
  /** The file and frame `image` belongs to. */
  imageFile: number;
  imageFrame: number;
  loading: boolean;
  error: { title: string; detail: string } | null;
  selected: number | null;
  /** The selected redaction box (the Redact tool's selection). */
  redactSelected: number | null;
}

export function newDoc(file: FileSummary): Doc {
  return {
    file,
    seq: null,
    position: 0,
    info: null,
    mode: "raw",
    frame: 0,
    view: defaultView(),
    preset: "default",
    manual: null,
    baseWindow: null,
    windowSource: null,
    serverWindow: null,
    invert: false,
    image: null,
    imageFile: -1,
    imageFrame: -1,
    loading: true,
    error: null,
    selected: null,
    redactSelected: null,
  };
}

export function frameCount(doc: Doc): number {
  return Math.max(1, doc.info?.frame_count ?? doc.file.frame_count ?? 1);
}

/** Is the file shown from grey samples (true) or from display pictures? */
export function isGreyInfo(info: FileInfo): boolean {
  // An unusable layout (nulls) goes the raw way too: the server then reports why it cannot decode.
  const pi = (info.photometric_interpretation ?? "MONOCHROME2").toUpperCase();
  return (info.samples_per_pixel ?? 1) === 1 && pi.startsWith("MONOCHROME");
}

/** The window applied to a grey image under the doc's preset. */
export function effectiveWindow(doc: Doc, img: FrameImage | null): Window {
  if (img?.kind !== "grey") {
    return doc.manual ?? doc.baseWindow ?? { center: 127.5, width: 256 };
  }
  const full = () => fullDynamicWindow(img.min, img.max, img.slope, img.intercept);
  if (doc.preset === "full") return full();
  if (doc.preset === "default") return doc.baseWindow ?? full();
  return doc.manual ?? doc.baseWindow ?? full();
}

/** Modality range of a grey image (for the W/L drag speed). */
export function modalityRange(img: FrameImage | null): number {
  if (img?.kind !== "grey") return 256;
  return Math.abs((img.max - img.min) * img.slope) || 1;
}
