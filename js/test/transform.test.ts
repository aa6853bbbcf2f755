import { describe, expect, it } from "vitest";
import {
  apply,
  defaultView,
  flipView,
  imageToCanvas,
  invert,
  rotateView,
  scaleOf,
  type ViewState,
  zoomAt,
} from "../src/viewport/transform";

const image = { width: 200, height: 100 };
const canvas = { width: 800, height: 600 };

function views(): ViewState[] {
  const out: ViewState[] = [];
  for (const rot of [0, 1, 2, 3]) {
    for (const flip of [false, true]) {
      out.push({ zoom: 1.7, panX: 13, panY: -40, rot, flip });
    }
  }
  return out;
}

function close(a: [number, number], b: [number, number]) {
  expect(a[0]).toBeCloseTo(b[0], 9);
  expect(a[1]).toBeCloseTo(b[1], 9);
}

describe("image <-> canvas transform", () => {
  it("fits and centres the image at zoom 1", () => {
    const m = imageToCanvas(defaultView(), image, canvas);
    expect(scaleOf(defaultView(), image, canvas)).toBe(4);
    close(apply(m, 0, 0), [0, 100]);
    close(apply(m, 200, 100), [800, 500]);
  });

  it("round-trips points under every zoom, pan, flip and rotation", () => {
    for (const v of views()) {
      const m = imageToCanvas(v, image, canvas);
      const inv = invert(m);
      for (const p of [
        [0, 0],
        [200, 100],
        [37.5, 81.25],
      ] as [number, number][]) {
        close(apply(inv, ...apply(m, ...p)), p);
      }
    }
  });

  it("keeps the image centre at canvas centre plus pan", () => {
    for (const v of views()) {
      close(apply(imageToCanvas(v, image, canvas), 100, 50), [400 + 13, 300 - 40]);
    }
  });

  it("fits the rotated image when turned a quarter", () => {
    const v = rotateView(defaultView(), 1);
    expect(scaleOf(v, image, canvas)).toBe(Math.min(800 / 100, 600 / 200));
  });

  it("rotates clockwise on screen: the top-left corner goes to the top-right", () => {
    const v = rotateView(defaultView(), 1);
    const m = imageToCanvas(v, image, canvas);
    const [x, y] = apply(m, 0, 0);
    const [cx, cy] = apply(m, 100, 50);
    expect(x).toBeGreaterThan(cx);
    expect(y).toBeLessThan(cy);
  });

  it("flips on screen left-right whatever the rotation", () => {
    for (const rot of [0, 1, 2, 3]) {
      const v: ViewState = { ...defaultView(), rot };
      const f = flipView(v, true);
      const a = imageToCanvas(v, image, canvas);
      const b = imageToCanvas(f, image, canvas);
      for (const p of [
        [0, 0],
        [30, 70],
      ] as [number, number][]) {
        const [x1, y1] = apply(a, ...p);
        const [x2, y2] = apply(b, ...p);
        expect(x2).toBeCloseTo(800 - x1, 9);
        expect(y2).toBeCloseTo(y1, 9);
      }
    }
  });

  it("flips on screen top-bottom whatever the rotation", () => {
    for (const rot of [0, 1, 2, 3]) {
      const v: ViewState = { ...defaultView(), rot, flip: rot % 2 === 1 };
      const a = imageToCanvas(v, image, canvas);
      const b = imageToCanvas(flipView(v, false), image, canvas);
      const [x1, y1] = apply(a, 10, 20);
      const [x2, y2] = apply(b, 10, 20);
      expect(x2).toBeCloseTo(x1, 9);
      expect(y2).toBeCloseTo(600 - y1, 9);
    }
  });

  it("two flips and four rotations are the identity", () => {
    const v = { ...defaultView(), rot: 1 };
    expect(flipView(flipView(v, true), true)).toEqual(v);
    let r = v;
    for (let i = 0; i < 4; i++) r = rotateView(r, 1);
    expect(r).toEqual(v);
  });

  it("zooms about the cursor: the image point under it stays put", () => {
    for (const v of views()) {
      const before = imageToCanvas(v, image, canvas);
      const p = apply(invert(before), 250, 170);
      const z = zoomAt(v, 2.5, 250, 170, canvas);
      close(apply(imageToCanvas(z, image, canvas), ...p), [250, 170]);
    }
  });
});
