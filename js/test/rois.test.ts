import { describe, expect, it } from "vitest";
import {
  boxFromPoints,
  boxText,
  fromPayload,
  handleAt,
  hitTest,
  moveBox,
  type Roi,
  resizeBox,
  scopeFrames,
  scopeText,
  toPayload,
  visibleOn,
} from "../src/rois";

const size = { rows: 100, columns: 80 };

describe("drawing", () => {
  it("snaps outwards to whole pixels in any drag direction", () => {
    expect(boxFromPoints(10.6, 20.2, 3.4, 5.9, size)).toEqual([5, 3, 21, 11]);
  });

  it("clamps to the image, max edges exclusive (ymax == rows is valid)", () => {
    expect(boxFromPoints(-5, -5, 500, 500, size)).toEqual([0, 0, 100, 80]);
  });

  it("rejects boxes outside the image", () => {
    expect(boxFromPoints(-10, -10, -2, -3, size)).toBeNull();
  });
});

describe("editing", () => {
  it("moves by whole pixels and stays inside", () => {
    expect(moveBox([10, 10, 20, 30], 5.4, -3.6, size)).toEqual([15, 6, 25, 26]);
    expect(moveBox([10, 10, 20, 30], 500, 500, size)).toEqual([90, 60, 100, 80]);
    expect(moveBox([10, 10, 20, 30], -500, -500, size)).toEqual([0, 0, 10, 20]);
  });

  it("resizes the grabbed edges and normalises a crossed-over box", () => {
    expect(resizeBox([10, 10, 20, 30], "se", 40.2, 50.7, size)).toEqual([10, 10, 51, 40]);
    expect(resizeBox([10, 10, 20, 30], "n", 0, 25, size)).toEqual([20, 10, 25, 30]);
    expect(resizeBox([10, 10, 20, 30], "w", -9, 0, size)).toEqual([10, 0, 20, 30]);
  });

  it("never collapses below one pixel", () => {
    expect(resizeBox([10, 10, 20, 30], "s", 0, 10, size)).toEqual([10, 10, 11, 30]);
    expect(resizeBox([90, 10, 100, 30], "n", 0, 100, size)).toEqual([99, 10, 100, 30]);
  });

  it("finds handles at corners before edges", () => {
    expect(handleAt([10, 10, 20, 30], 10.5, 10.5, 1)).toBe("nw");
    expect(handleAt([10, 10, 20, 30], 30, 20, 1)).toBe("se");
    expect(handleAt([10, 10, 20, 30], 20, 10, 1)).toBe("n");
    expect(handleAt([10, 10, 20, 30], 20, 15, 1)).toBeNull();
  });
});

describe("selection and frame scope", () => {
  const rois: Roi[] = [
    { box: [10, 10, 20, 30], frames: [] },
    { box: [15, 15, 40, 40], frames: [2] },
  ];

  it("shows an ROI on its frames only ([] = all)", () => {
    expect(visibleOn(rois[0]!, 7)).toBe(true);
    expect(visibleOn(rois[1]!, 2)).toBe(true);
    expect(visibleOn(rois[1]!, 1)).toBe(false);
  });

  it("hits the topmost ROI visible on the frame", () => {
    expect(hitTest(rois, 2, 17, 17, 0.5, null)).toEqual({ index: 1, part: "body" });
    expect(hitTest(rois, 0, 17, 17, 0.5, null)).toEqual({ index: 0, part: "body" });
    expect(hitTest(rois, 0, 35, 35, 0.5, null)).toBeNull();
  });

  it("prefers the handles of the selected ROI", () => {
    expect(hitTest(rois, 2, 10, 10, 1, 0)).toEqual({ index: 0, part: "nw" });
  });

  it("makes frame lists from the scope", () => {
    expect(scopeFrames("all", 4)).toEqual([]);
    expect(scopeFrames("frame", 4)).toEqual([4]);
  });
});

describe("API payload", () => {
  it("round-trips ROIs and sorts frame lists", () => {
    const rois: Roi[] = [
      { box: [1, 2, 3, 4], frames: [] },
      { box: [5, 6, 7, 8], frames: [3, 1] },
    ];
    const p = toPayload(rois);
    expect(p).toEqual({
      num_roi: 2,
      roi_coords: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
      roi_frames: [[], [1, 3]],
    });
    expect(fromPayload(p)).toEqual([
      { box: [1, 2, 3, 4], frames: [] },
      { box: [5, 6, 7, 8], frames: [1, 3] },
    ]);
  });

  it("reads a payload without frame lists as all frames", () => {
    expect(fromPayload({ num_roi: 1, roi_coords: [[1, 2, 3, 4]], roi_frames: [] })).toEqual([
      { box: [1, 2, 3, 4], frames: [] },
    ]);
  });
});

describe("ROI list text", () => {
  it("gives the box in the CSV's order", () => {
    expect(boxText([10, 20, 30, 40])).toBe("[10, 20, 30, 40]");
  });

  it("counts frames from 1, as the frame bar does, and shortens long lists", () => {
    expect(scopeText({ box: [0, 0, 1, 1], frames: [] })).toBe("all frames");
    expect(scopeText({ box: [0, 0, 1, 1], frames: [0] })).toBe("frame 1");
    expect(scopeText({ box: [0, 0, 1, 1], frames: [0, 2, 4, 6, 8, 9] })).toBe(
      "frames 1, 3, 5, 7 +2",
    );
  });
});
