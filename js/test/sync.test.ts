import { afterEach, describe, expect, it, vi } from "vitest";
import { changes, sameSync, throttle, type ViewSync } from "../src/sync";

const base: ViewSync = { file: 0, frame: 3, wc: 40, ww: 400, tool: "wl" };

describe("view sync", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reports only what differs", () => {
    expect(changes(base, { ...base })).toEqual({});
    expect(changes(base, { frame: 4 })).toEqual({ frame: 4 });
    expect(changes(base, { file: 2, tool: "roi" })).toEqual({ file: 2, tool: "roi" });
    expect(changes(base, { wc: -600, ww: 1600 })).toEqual({ wc: -600, ww: 1600 });
  });

  it("ignores an incomplete or invalid window and unknown tools", () => {
    expect(changes(base, { wc: 10, ww: null })).toEqual({});
    expect(changes(base, { wc: 10, ww: 0 })).toEqual({});
    expect(changes(base, { tool: "laser" as ViewSync["tool"] })).toEqual({});
  });

  it("compares states", () => {
    expect(sameSync(null, base)).toBe(false);
    expect(sameSync({ ...base }, base)).toBe(true);
    expect(sameSync({ ...base, ww: 401 }, base)).toBe(false);
  });

  it("throttles to the latest value", () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const push = throttle(100, (v: number) => seen.push(v));
    push(1);
    push(2);
    push(3);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([1, 3]);
    vi.advanceTimersByTime(500);
    push(4);
    expect(seen).toEqual([1, 3, 4]);
  });
});
