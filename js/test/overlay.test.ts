import { describe, expect, it } from "vitest";
import { newDoc } from "../src/doc";
import type { GreyImage } from "../src/frames/image";
import { overlayLines } from "../src/overlay";
import { windowSource, windowSourceLabel } from "../src/window-source";
import { formatWindow } from "../src/windowing";
import { summary } from "./fixtures";

function grey(): GreyImage {
  return {
    kind: "grey",
    rows: 2,
    columns: 2,
    bitsAllocated: 16,
    signed: false,
    samples: new Uint16Array([0, 10, 20, 30]),
    slope: 1,
    intercept: 0,
    monochrome1: false,
    defaultWindow: null,
    min: 0,
    max: 30,
  };
}

describe("the window's source", () => {
  it("is the file's own window when it has one, whatever the server did", () => {
    expect(windowSource(true, { applied: "linear", hasWindow: true })).toBe("dicom");
  });

  it("is the percentile fallback when the server chose a linear window for a file without one", () => {
    expect(windowSource(false, { applied: "linear", hasWindow: true })).toBe("auto");
  });

  it("says when a VOI LUT was not applied, and falls back to the full range", () => {
    expect(windowSource(false, { applied: "voi_lut", hasWindow: false })).toBe("voi_lut");
    expect(windowSource(false, null)).toBe("full");
    expect(windowSource(false, { applied: "full_dynamic", hasWindow: false })).toBe("full");
  });
});

describe("overlay lines", () => {
  it("name the percentile fallback, not Default (DICOM)", () => {
    const doc = newDoc(summary({}));
    doc.image = grey();
    doc.baseWindow = { center: 15, width: 30 };
    doc.windowSource = "auto";
    const tr = overlayLines(doc, doc.baseWindow, 1).tr.join("\n");
    expect(tr).toContain(windowSourceLabel("auto"));
    expect(tr).not.toContain("DICOM");
  });

  it("name the file's window Default (DICOM)", () => {
    const doc = newDoc(summary({}));
    doc.image = grey();
    doc.baseWindow = { center: 15, width: 30 };
    doc.windowSource = "dicom";
    expect(overlayLines(doc, doc.baseWindow, 1).tr[0]).toBe("W 30 L 15 (Default (DICOM))");
  });

  it("claim no source for the Default window before it is known", () => {
    const doc = newDoc(summary({}));
    doc.image = grey();
    expect(overlayLines(doc, { center: 15, width: 30 }, 1).tr[0]).toBe("W 30 L 15 (Default)");
  });

  it("do not name the renderer", () => {
    const doc = newDoc(summary({}));
    doc.image = grey();
    const all = Object.values(overlayLines(doc, { center: 15, width: 30 }, 1))
      .flat()
      .join(" ");
    expect(all).not.toMatch(/WebGL|Canvas/);
  });
});

describe("window text", () => {
  it("shows W and L with the same number of decimals", () => {
    expect(formatWindow({ center: 40.5, width: 1283.25 })).toBe("W 1283.3 L 40.5");
    expect(formatWindow({ center: 40.25, width: 12.5 })).toBe("W 12.50 L 40.25");
    expect(formatWindow({ center: 60, width: 400 })).toBe("W 400 L 60");
  });
});
