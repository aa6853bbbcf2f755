import { afterEach, describe, expect, it, vi } from "vitest";
import { Api, ApiError } from "../src/api";
import { FrameCache } from "../src/frames/cache";
import type { FrameImage } from "../src/frames/image";
import { parseRaw } from "../src/frames/image";
import { errorFrom } from "../src/transport/types";
import { FakeTransport, json } from "./transport";

describe("raw frames", () => {
  it("reads signed 16-bit samples and the headers that describe them", () => {
    const samples = new Int16Array([-1000, 0, 1000, 2000, -5, 7]);
    const img = parseRaw({
      status: 200,
      headers: {
        "x-frame-rows": "2",
        "x-frame-columns": "3",
        "x-frame-bits-allocated": "16",
        "x-frame-pixel-representation": "1",
        "x-frame-samples-per-pixel": "1",
        "x-frame-photometric-interpretation": "MONOCHROME1",
        "x-frame-rescale-slope": "2",
        "x-frame-rescale-intercept": "-1024",
        "x-frame-default-wc": "40",
        "x-frame-default-ww": "400",
      },
      body: samples.buffer,
    });
    expect(img.samples).toBeInstanceOf(Int16Array);
    expect(Array.from(img.samples)).toEqual(Array.from(samples));
    expect(img).toMatchObject({
      rows: 2,
      columns: 3,
      signed: true,
      slope: 2,
      intercept: -1024,
      monochrome1: true,
      defaultWindow: { center: 40, width: 400 },
      min: -1000,
      max: 2000,
    });
  });

  it("has no default window when the headers are absent", () => {
    const img = parseRaw({
      status: 200,
      headers: { "x-frame-rows": "1", "x-frame-columns": "2", "x-frame-bits-allocated": "8" },
      body: new Uint8Array([1, 2]).buffer,
    });
    expect(img.defaultWindow).toBeNull();
    expect(img.samples).toBeInstanceOf(Uint8Array);
  });
});

describe("API errors", () => {
  it("carry the server's code and text", async () => {
    const api = new Api(
      new FakeTransport(() =>
        json(422, { code: "unsupported_transfer_syntax", error: "No decoder for JPEG XL." }),
      ),
    );
    const err = await api.info(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 422,
      code: "unsupported_transfer_syntax",
      message: "No decoder for JPEG XL.",
    });
  });

  it("fall back to the status for non-JSON bodies", () => {
    const e = errorFrom({
      status: 502,
      headers: {},
      body: new TextEncoder().encode("<html>").buffer as ArrayBuffer,
    });
    expect(e.code).toBe("http_502");
  });

  it("uses relative paths only", async () => {
    const t = new FakeTransport(() => json(200, { files: [] }));
    await new Api(t).files();
    expect(t.calls[0]!.path).toBe("api/files");
  });
});

describe("frame cache", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const img = (n: number): FrameImage => ({
    kind: "grey",
    rows: 1,
    columns: n,
    bitsAllocated: 8,
    signed: false,
    samples: new Uint8Array(n),
    slope: 1,
    intercept: 0,
    monochrome1: false,
    defaultWindow: null,
    min: 0,
    max: 0,
  });

  it("shares one load per frame and keeps within its byte budget", async () => {
    let loads = 0;
    const cache = new FrameCache(async () => {
      loads++;
      return img(100);
    }, 250);
    const [a, b] = await Promise.all([cache.get(0, 0), cache.get(0, 0)]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    await cache.get(0, 1);
    await cache.get(0, 2);
    expect(cache.usedBytes).toBeLessThanOrEqual(250);
    expect(cache.has(0, 0)).toBe(false);
    expect(cache.has(0, 2)).toBe(true);
  });

  it("prefetches with a bounded number of loads in flight", async () => {
    vi.useFakeTimers();
    let inFlight = 0;
    let peak = 0;
    const cache = new FrameCache(
      async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return img(1);
      },
      1e9,
      3,
    );
    cache.prefetch([1, 2, 3, 4, 5, 6, 7].map((frame) => ({ file: 0, frame })));
    expect(inFlight).toBe(3);
    await vi.runAllTimersAsync();
    expect(peak).toBe(3);
    for (const f of [1, 2, 3, 4, 5, 6, 7]) expect(cache.has(0, f)).toBe(true);
  });
});

describe("file info", () => {
  it("treats an unusable layout (nulls) as grey, so the server's decode error is shown", async () => {
    const { isGreyInfo } = await import("../src/doc");
    const info = {
      frame_count: 0,
      rows: null,
      columns: null,
      transfer_syntax: "Explicit VR Little Endian",
      transfer_syntax_uid: "1.2.840.10008.1.2.1",
      has_pixels: true,
      default_window: null,
      photometric_interpretation: null,
      samples_per_pixel: null,
      bits_allocated: null,
      pixel_spacing: null,
    };
    expect(isGreyInfo(info)).toBe(true);
    expect(isGreyInfo({ ...info, photometric_interpretation: "RGB", samples_per_pixel: 3 })).toBe(
      false,
    );
    expect(
      isGreyInfo({ ...info, photometric_interpretation: "PALETTE COLOR", samples_per_pixel: 1 }),
    ).toBe(false);
  });
});
