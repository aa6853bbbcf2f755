// Stacks (SPEC §9), pure: the `api/series` answer as sequences of places the viewer scrolls,
// where each file and frame sits in them, and the order of stacks in the explorer (↑/↓).

import { groupFiles } from "./files";
import type { Place, Sequence } from "./navigation";
import type { FileSummary, SeriesResponse, StackJson } from "./types";

/** A stack as a sequence of places, with the slice position of each (mm, or null). */
export interface StackSequence extends Sequence {
  readonly stack: StackJson;
  /** Position along the stack's normal of place i in mm, null when unknown. */
  mm(i: number): number | null;
}

export function stackSequence(stack: StackJson): StackSequence {
  const frames = stack.frames;
  return {
    stack,
    length: Math.max(1, frames.length),
    at: (i) => {
      const f = frames[i] ?? frames[0];
      return f ? { file: f.file_index, frame: f.frame_index } : { file: -1, frame: 0 };
    },
    mm: (i) => frames[i]?.position_along_normal_mm ?? null,
  };
}

/** Where a place sits: its stack and its position in it. */
export interface StackPlace {
  readonly seq: StackSequence;
  readonly position: number;
}

/** Every stack of a series answer, looked up by file and frame. */
export class StackIndex {
  /** The stacks, in the answer's order. */
  readonly stacks: StackSequence[];
  private readonly byPlace = new Map<string, StackPlace>();
  /** A file's first image in its stack (the one opening the file shows). */
  private readonly byFile = new Map<number, StackPlace>();

  constructor(answer: SeriesResponse) {
    this.stacks = answer.series.flatMap((s) => s.stacks.map(stackSequence));
    for (const seq of this.stacks) {
      seq.stack.frames.forEach((f, position) => {
        const at = { seq, position };
        this.byPlace.set(`${f.file_index}:${f.frame_index}`, at);
        const first = this.byFile.get(f.file_index);
        if (!first || f.frame_index === 0) this.byFile.set(f.file_index, at);
      });
    }
  }

  /** The stack a place belongs to and its position there (null when in none). */
  find(place: Place): StackPlace | null {
    return this.byPlace.get(`${place.file}:${place.frame}`) ?? null;
  }

  /** The stack of a file, at the file's first frame (null when the file is in none). */
  ofFile(file: number): StackPlace | null {
    return this.byFile.get(file) ?? null;
  }

  /**
   * The stacks in explorer order: by the explorer position (patient → study → series → file,
   * as the tree lists `files`) of their first listed file; stacks of unlisted files come last.
   */
  explorerOrder(files: readonly FileSummary[]): StackSequence[] {
    const rank = new Map<number, number>();
    let n = 0;
    for (const p of groupFiles(files))
      for (const s of p.studies)
        for (const r of s.series) for (const f of r.files) rank.set(f.index, n++);
    const first = (seq: StackSequence) =>
      Math.min(...seq.stack.frames.map((f) => rank.get(f.file_index) ?? Number.MAX_SAFE_INTEGER));
    const keyed = this.stacks.map((seq, i) => ({ seq, i, r: first(seq) }));
    keyed.sort((a, b) => a.r - b.r || a.i - b.i);
    return keyed.map((k) => k.seq);
  }
}

/** The stack `delta` steps from `current` in `order` (kept within it), or null without stacks. */
export function neighbourStack(
  order: readonly StackSequence[],
  current: StackSequence | null,
  delta: number,
): StackSequence | null {
  if (!order.length) return null;
  const at = current ? order.findIndex((s) => s.stack.id === current.stack.id) : -1;
  if (at < 0) return order[delta < 0 ? order.length - 1 : 0] ?? null;
  return order[Math.min(order.length - 1, Math.max(0, at + delta))] ?? null;
}

/** The overlay's position line: `image 21 / 40`, or `Frame 3/12` in a multi-frame file. */
export function positionLine(kind: StackJson["kind"] | null, i: number, n: number): string {
  return kind === "ordinary" ? `image ${i + 1} / ${n}` : `Frame ${i + 1}/${n}`;
}

/** A slice position for the overlay: `12.5 mm` (to 0.01 mm), or null when unknown. */
export function formatMm(mm: number | null): string | null {
  if (mm === null || !Number.isFinite(mm)) return null;
  return `${Number(mm.toFixed(2))} mm`;
}
