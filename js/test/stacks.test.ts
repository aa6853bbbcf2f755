import { describe, expect, it } from "vitest";
import { actionFor } from "../src/keys";
import { nearby } from "../src/navigation";
import { formatMm, neighbourStack, positionLine, StackIndex, stackSequence } from "../src/stacks";
import type { SeriesResponse, StackJson } from "../src/types";
import { summary } from "./fixtures";

/** A stack of these (file, frame, mm) images, in order. */
function stack(id: string, frames: [number, number, number | null][]): StackJson {
  return {
    id,
    kind:
      frames.every(([f]) => f === frames[0]![0]) && frames.length > 1 ? "multiframe" : "ordinary",
    rows: 4,
    columns: 4,
    frames: frames.map(([file, frame, mm], i) => ({
      virtual_index: i,
      file_index: file,
      frame_index: frame,
      sop_instance_uid: `1.2.${file}`,
      instance_number: file + 1,
      position_along_normal_mm: mm,
    })),
  };
}

function answer(...stacks: StackJson[]): SeriesResponse {
  return {
    scan_complete: true,
    series: stacks.map((s, i) => ({
      id: `series-${i}`,
      study_instance_uid: "1.2",
      series_instance_uid: `1.2.${i}`,
      series_number: i + 1,
      series_description: "",
      modality: "CT",
      frame_of_reference_uids: [],
      stacks: [s],
    })),
  };
}

// Files 0..3 are one CT series stored against its geometry (file 3 is the lowest slice);
// file 4 is a multi-frame file of three frames.
const ct = stack("stack-0", [
  [3, 0, -5],
  [1, 0, 0],
  [2, 0, 5],
  [0, 0, 10],
]);
const mf = stack("stack-1", [
  [4, 2, null],
  [4, 0, null],
  [4, 1, null],
]);

describe("stacks", () => {
  it("walks a stack across files, with each image's slice position", () => {
    const seq = stackSequence(ct);
    expect(seq.length).toBe(4);
    expect([0, 1, 2, 3].map((i) => seq.at(i).file)).toEqual([3, 1, 2, 0]);
    expect(seq.at(2)).toEqual({ file: 2, frame: 0 });
    expect(seq.mm(0)).toBe(-5);
    expect(stackSequence(mf).mm(0)).toBeNull();
  });

  it("finds the stack and position of a file and of a frame", () => {
    const index = new StackIndex(answer(ct, mf));
    expect(index.find({ file: 0, frame: 0 })?.position).toBe(3);
    expect(index.find({ file: 0, frame: 0 })?.seq.stack.id).toBe("stack-0");
    // A multi-frame file stacked out of frame order: a frame is where the stack puts it.
    expect(index.find({ file: 4, frame: 1 })?.position).toBe(2);
    expect(index.ofFile(4)?.position).toBe(1);
    expect(index.find({ file: 9, frame: 0 })).toBeNull();
    expect(index.ofFile(9)).toBeNull();
  });

  it("orders stacks as the explorer lists their files", () => {
    const index = new StackIndex(answer(ct, mf));
    // The explorer groups by patient first: patient B's multi-frame file comes first.
    const files = [
      summary({ index: 4, patient_id: "B", series_instance_uid: "9" }),
      ...[0, 1, 2, 3].map((i) => summary({ index: i, patient_id: "C" })),
    ];
    const order = index.explorerOrder(files);
    expect(order.map((s) => s.stack.id)).toEqual(["stack-1", "stack-0"]);
    const [first, second] = order;
    expect(neighbourStack(order, first!, 1)).toBe(second);
    expect(neighbourStack(order, second!, 1)).toBe(second);
    expect(neighbourStack(order, second!, -1)).toBe(first);
    expect(neighbourStack(order, first!, -1)).toBe(first);
    expect(neighbourStack(order, null, 1)).toBe(first);
    expect(neighbourStack([], null, 1)).toBeNull();
  });

  it("labels a stack's images and slice positions", () => {
    expect(positionLine("ordinary", 20, 40)).toBe("image 21 / 40");
    expect(positionLine("multiframe", 2, 12)).toBe("Frame 3/12");
    expect(formatMm(12.5)).toBe("12.5 mm");
    expect(formatMm(-0.123456)).toBe("-0.12 mm");
    expect(formatMm(null)).toBeNull();
  });

  it("prefetches further ahead in the direction of travel", () => {
    const seq = stackSequence(
      stack(
        "s",
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((f) => [f, 0, f]),
      ),
    );
    expect(nearby(seq, 5, -1, 3).map((p) => p.file)).toEqual([4, 3, 2, 6]);
    expect(nearby(seq, 5, 1, 3).map((p) => p.file)).toEqual([6, 7, 8, 4]);
    expect(nearby(seq, 8, 1, 3).map((p) => p.file)).toEqual([9, 7]);
  });

  it("maps ↑/↓ to the previous and next stack", () => {
    const key = (k: string) =>
      actionFor({ key: k, ctrlKey: false, metaKey: false, altKey: false, target: null });
    expect(key("ArrowUp")).toEqual({ type: "stack", delta: -1 });
    expect(key("ArrowDown")).toEqual({ type: "stack", delta: 1 });
  });
});
