import { describe, expect, it } from "vitest";
import { newDoc } from "../src/doc";
import { firstPaintLevels } from "../src/first-paint";
import type { PictureImage } from "../src/frames/image";
import { overlayLines, publishState } from "../src/overlay";
import type { FileInfo } from "../src/types";
import { summary } from "./fixtures";

function info(over: Partial<FileInfo>): FileInfo {
  return {
    frame_count: 1,
    rows: 3328,
    columns: 2560,
    transfer_syntax: "JPEG 2000 Lossless",
    transfer_syntax_uid: "1.2.840.10008.1.2.4.90",
    has_pixels: true,
    default_window: null,
    photometric_interpretation: "MONOCHROME2",
    samples_per_pixel: 1,
    bits_allocated: 16,
    pixel_spacing: null,
    ...over,
  };
}

describe("first paint levels", () => {
  it("reduce a mammogram to at least half the size it is shown at", () => {
    // fitted in 750 px: shown 750 x 577; level 3 (416 x 320) is the last >= half of that
    expect(firstPaintLevels(info({}), { width: 900, height: 750 })).toBe(3);
    // fitted in 1664 px (half the frame): level 1 is 1664, level 2 (832) still >= 832
    expect(firstPaintLevels(info({}), { width: 2000, height: 1664 })).toBe(2);
  });

  it("do not reduce a frame that fits the view, nor other codecs", () => {
    expect(firstPaintLevels(info({}), { width: 4000, height: 4000 })).toBe(0);
    const native = info({ transfer_syntax_uid: "1.2.840.10008.1.2.1" });
    expect(firstPaintLevels(native, { width: 500, height: 500 })).toBe(0);
    const palette = info({ photometric_interpretation: "PALETTE COLOR" });
    expect(firstPaintLevels(palette, { width: 500, height: 500 })).toBe(0);
    const htj2k = info({ transfer_syntax_uid: "1.2.840.10008.1.2.4.201" });
    expect(firstPaintLevels(htj2k, { width: 500, height: 500 })).toBeGreaterThan(0);
  });
});

describe("a reduced first paint", () => {
  const picture = (reduced: number): PictureImage => ({
    kind: "picture",
    rows: 3328,
    columns: 2560,
    bitmap: {} as ImageBitmap,
    reduced,
    window: null,
    applied: null,
    colour: false,
  });

  it("says so in the overlay and in data-reduced until the full frame is shown", () => {
    const doc = newDoc(summary({}));
    doc.image = picture(8);
    doc.loading = true;
    const w = { center: 1, width: 2 };
    expect(overlayLines(doc, w, 1).tl).toContain("Reduced 1/8: loading full resolution…");
    const el: DOMStringMap = {};
    publishState(el, doc, w, 1, "webgl2", 0);
    expect(el.reduced).toBe("8");
    doc.image = picture(1);
    doc.loading = false;
    expect(overlayLines(doc, w, 1).tl.join()).not.toContain("Reduced");
    publishState(el, doc, w, 1, "webgl2", 0);
    expect(el.reduced).toBe("");
  });
});
