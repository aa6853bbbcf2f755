// What a pointer tool may read and change. The viewer implements it; tools stay pure of DOM.

import type { ImageSize, Roi } from "../rois";
import type { Size, ViewState } from "../viewport/transform";
import type { Window } from "../windowing";

export interface ToolHost {
  view(): ViewState;
  setView(v: ViewState): void;
  /** The window in effect, or null for pictures (colour) that cannot be windowed. */
  window(): Window | null;
  setWindow(w: Window): void;
  /** Modality units per pixel of W/L drag. */
  windowUnit(): number;
  /** The frame of the file shown (ROIs belong to file frames). */
  frame(): number;
  /** Position in the sequence shown and its length (what the scroll drag walks). */
  position(): number;
  length(): number;
  /** Go to a position; cine, if playing, goes on from there. */
  seek(position: number): void;
  canvasSize(): Size;
  /** Canvas (CSS px) -> image pixels, or null without an image. */
  toImage(x: number, y: number): [number, number] | null;
  imageSize(): ImageSize | null;
  /** Canvas pixels per image pixel. */
  imageScale(): number;
  rois(): readonly Roi[];
  /** Replace the ROIs of the file; `save` false while a drag is still going on. */
  setRois(rois: Roi[], save: boolean): void;
  selected(): number | null;
  select(i: number | null): void;
  setDraft(box: [number, number, number, number] | null): void;
  /** Frames a newly drawn ROI belongs to (the current scope). */
  newRoiFrames(): number[];
  setCursor(cursor: string): void;
}

export interface Drag {
  move(x: number, y: number): void;
  end(x: number, y: number): void;
}

export interface Tool {
  begin(host: ToolHost, x: number, y: number): Drag | null;
  hover?(host: ToolHost, x: number, y: number): void;
}
