import { describe, expect, it } from "vitest";
import { newDoc } from "../src/doc";
import { overlayLines } from "../src/overlay";
import { hasShutter, ShutterCache, shutterLine } from "../src/shutters";
import { summary } from "./fixtures";

const circular = summary({ index: 3, shutter_shapes: ["circular"] });
const plain = summary({ index: 4, shutter_shapes: [] });

describe("shutter facts", () => {
  it("are read from the summary's shapes", () => {
    expect(hasShutter(circular)).toBe(true);
    expect(hasShutter(plain)).toBe(false);
    expect(hasShutter(summary({}))).toBe(false);
  });

  it("name the shapes while drawn, and say when switched off", () => {
    const both = summary({ shutter_shapes: ["rectangular", "circular"] });
    expect(shutterLine(both, true)).toBe("Shutter: rectangular, circular");
    expect(shutterLine(both, false)).toBe("Shutter off");
    expect(shutterLine(plain, true)).toBe("");
  });

  it("label the overlay when given", () => {
    const doc = newDoc(circular);
    const tr = overlayLines(doc, { center: 1, width: 2 }, 1, shutterLine(circular, true)).tr;
    expect(tr).toContain("Shutter: circular");
    expect(overlayLines(doc, { center: 1, width: 2 }, 1).tr.join()).not.toContain("Shutter");
  });
});

describe("shutter pictures", () => {
  const picture = { close: () => {} } as unknown as ImageBitmap;

  it("are fetched once per file, and never for a file without a shutter", async () => {
    const asked: number[] = [];
    const cache = new ShutterCache(async (file) => {
      asked.push(file);
      return picture;
    });
    expect(cache.peek(circular)).toBeUndefined();
    expect(cache.peek(plain)).toBeNull();
    const [a, b] = await Promise.all([cache.load(circular), cache.load(circular)]);
    expect(a).toBe(picture);
    expect(b).toBe(picture);
    expect(await cache.load(plain)).toBeNull();
    expect(cache.peek(circular)).toBe(picture);
    expect(asked).toEqual([3]);
  });

  it("leave the image unshuttered when the picture cannot be loaded", async () => {
    const cache = new ShutterCache(() => Promise.reject(new Error("404")));
    expect(await cache.load(circular)).toBeNull();
    expect(cache.peek(circular)).toBeNull();
  });
});
