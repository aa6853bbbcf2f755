// Where the viewer is and where it can go, pure. A place is one frame of one file; the frame
// moves (keys, buttons, wheel, slider, scroll drag, cine) walk a sequence of places by position.
// The sequence of a tab is its file's stack (stacks.ts) once `api/series` is known, else the
// file's frames; nothing that moves needs to know which kind it walks.

import type { Doc } from "./doc";
import type { FileSummary } from "./types";

export interface Place {
  readonly file: number;
  readonly frame: number;
}

export interface Sequence {
  readonly length: number;
  /** The place at position i, 0 <= i < length. */
  at(i: number): Place;
}

/** The frames of one file, in order. */
export function fileFrames(file: number, count: number): Sequence {
  return { length: Math.max(1, count), at: (i) => ({ file, frame: i }) };
}

/** Position i kept within the sequence. */
export function clampPosition(seq: Sequence, i: number): number {
  return Math.min(seq.length - 1, Math.max(0, i));
}

/**
 * What to load next to position i, in order of need: the next `ahead` in the direction of
 * travel `dir`, then the one behind (a stack scrolled by the wheel needs more than two ahead).
 */
export function nearby(seq: Sequence, i: number, dir: 1 | -1 = 1, ahead = 2): Place[] {
  const want: number[] = [];
  for (let k = 1; k <= ahead; k++) want.push(i + dir * k);
  want.push(i - dir);
  return want.filter((p) => p >= 0 && p < seq.length).map((p) => seq.at(p));
}

/** The places at these positions (those inside the sequence). */
export function placesAt(seq: Sequence, positions: readonly number[]): Place[] {
  return positions.filter((p) => p >= 0 && p < seq.length).map((p) => seq.at(p));
}

/** A change of file or frame: every one goes through `Viewer.navigate`. */
export type Move =
  /** Open a file in a tab, or switch to its tab (explorer, notebook host). */
  | { kind: "open"; file: FileSummary }
  /** Switch to a tab. */
  | { kind: "tab"; doc: Doc }
  /** Close a tab. */
  | { kind: "close"; doc: Doc }
  /** Go to a position of the shown sequence (slider, scroll drag, cine, notebook host). */
  | { kind: "to"; position: number }
  /** Move by some positions (keys, buttons, wheel). */
  | { kind: "step"; delta: number }
  /** Go to the previous (-1) or next (+1) stack in explorer order (↑/↓). */
  | { kind: "stack"; delta: number };

/**
 * Who moves. A person's move ("user") stops cine; a seek (slider, scroll drag) moves the play
 * position and cine goes on from there; "cine" is playback's own step (it prefetches for itself).
 */
export type Cause = "user" | "seek" | "cine";
