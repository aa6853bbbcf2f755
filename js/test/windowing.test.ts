import { describe, expect, it } from "vitest";
import {
  buildLut,
  displayByte,
  dragWindow,
  fullDynamicWindow,
  initialWindow,
  minMax,
  windowToByte,
} from "../src/windowing";

describe("linear window (PS3.3 C.11.2.1.2.1)", () => {
  const w = { center: 40, width: 400 };

  it("maps values at and below the lower edge to black", () => {
    expect(windowToByte(-160, w)).toBe(0);
    expect(windowToByte(-1000, w)).toBe(0);
  });

  it("maps values above the upper edge to white", () => {
    expect(windowToByte(240, w)).toBe(255);
    expect(windowToByte(3000, w)).toBe(255);
  });

  it("maps the centre to mid grey", () => {
    expect(windowToByte(40, w)).toBe(128);
  });

  it("matches the server formula ((x - (c - 0.5 - (w-1)/2)) * 255 / (w - 1)) rounded", () => {
    for (const x of [-150, -100, 0, 17.5, 100, 200]) {
      const off = w.center - 0.5 - (w.width - 1) / 2;
      const expected = Math.floor(
        Math.min(255, Math.max(0, ((x - off) * 255) / (w.width - 1))) + 0.5,
      );
      expect(windowToByte(x, w)).toBe(expected);
    }
  });

  it("treats a width of 1 as a threshold at the centre", () => {
    expect(windowToByte(9, { center: 10, width: 1 })).toBe(0);
    expect(windowToByte(10, { center: 10, width: 1 })).toBe(255);
  });

  it("applies rescale before the window and inversion after it", () => {
    // stored 1024 with slope 1, intercept -1024 is 0 HU: inside a 0/2 window's lower half.
    expect(displayByte(1024, 1, -1024, { center: 0, width: 100 }, false)).toBe(
      windowToByte(0, { center: 0, width: 100 }),
    );
    expect(displayByte(1024, 1, -1024, { center: 0, width: 100 }, true)).toBe(
      255 - windowToByte(0, { center: 0, width: 100 }),
    );
  });
});

describe("lookup table for the Canvas 2D path", () => {
  it("covers signed 16-bit values with an offset", () => {
    const lut = buildLut(16, true, 1, 0, { center: 0, width: 200 }, false)!;
    expect(lut.offset).toBe(-32768);
    expect(lut.table.length).toBe(65536);
    expect(lut.table[-100 - lut.offset]).toBe(windowToByte(-100, { center: 0, width: 200 }));
    expect(lut.table[32767 - lut.offset]).toBe(255);
  });

  it("is skipped for 32-bit samples", () => {
    expect(buildLut(32, false, 1, 0, { center: 0, width: 10 }, false)).toBeNull();
  });
});

describe("window choice", () => {
  it("prefers the file default, then the server's choice, then min/max", () => {
    const full = () => ({ center: 5, width: 10 });
    expect(initialWindow({ center: 1, width: 2 }, { center: 3, width: 4 }, full)).toEqual({
      center: 1,
      width: 2,
    });
    expect(initialWindow(null, { center: 3, width: 4 }, full)).toEqual({ center: 3, width: 4 });
    expect(initialWindow(null, null, full)).toEqual({ center: 5, width: 10 });
  });

  it("full dynamic spans the modality range, whatever the slope sign", () => {
    expect(fullDynamicWindow(0, 4095, 1, -1024)).toEqual({ center: 1023.5, width: 4095 });
    expect(fullDynamicWindow(0, 100, -1, 0)).toEqual({ center: -50, width: 100 });
    expect(fullDynamicWindow(7, 7, 1, 0).width).toBe(1);
  });

  it("finds min and max of a frame", () => {
    expect(minMax(new Int16Array([3, -7, 12, 0]))).toEqual({ min: -7, max: 12 });
  });

  it("W/L drag widens to the right and raises the level downwards, never below width 1", () => {
    const w = dragWindow({ center: 40, width: 400 }, 10, 20, 2);
    expect(w).toEqual({ center: 80, width: 420 });
    expect(dragWindow({ center: 0, width: 5 }, -100, 0, 1).width).toBe(1);
  });
});
