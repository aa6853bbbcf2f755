import { describe, expect, it } from "vitest";
import { CineClock, nextFrame, upcomingFrames } from "../src/cine";
import { lookahead } from "../src/playback";

describe("cine stepping", () => {
  it("loops back to the first frame", () => {
    expect(nextFrame(3, 1, 5, "loop")).toEqual({ frame: 4, dir: 1 });
    expect(nextFrame(4, 1, 5, "loop")).toEqual({ frame: 0, dir: 1 });
  });

  it("sweeps back and forth without repeating the end frames", () => {
    const seen: number[] = [];
    let s = { frame: 0, dir: 1 as 1 | -1 };
    for (let i = 0; i < 10; i++) {
      s = nextFrame(s.frame, s.dir, 4, "sweep");
      seen.push(s.frame);
    }
    expect(seen).toEqual([1, 2, 3, 2, 1, 0, 1, 2, 3, 2]);
  });

  it("stays on frame 0 of a single frame", () => {
    expect(nextFrame(0, 1, 1, "sweep").frame).toBe(0);
  });

  it("lists upcoming frames for prefetching", () => {
    expect(upcomingFrames(8, 1, 10, "loop", 4)).toEqual([9, 0, 1, 2]);
    expect(upcomingFrames(8, 1, 10, "sweep", 4)).toEqual([9, 8, 7, 6]);
    expect(upcomingFrames(0, 1, 3, "loop", 10)).toEqual([1, 2]);
  });

  it("prefetches about 1.5 s ahead, within bounds", () => {
    expect(lookahead(24, 100)).toBe(36);
    expect(lookahead(1, 100)).toBe(6);
    expect(lookahead(60, 30)).toBe(29);
  });
});

describe("cine clock", () => {
  it("holds 24 fps on a 60 Hz display", () => {
    const clock = new CineClock(24, 0);
    let shown = 0;
    for (let t = 0; t <= 10_000; t += 1000 / 60) {
      if (clock.due(t, 8)) {
        clock.advanced(t);
        shown++;
      }
    }
    expect(shown).toBeGreaterThanOrEqual(239);
    expect(shown).toBeLessThanOrEqual(241);
  });

  it("restarts the schedule after a stall instead of rushing", () => {
    const clock = new CineClock(10, 0);
    expect(clock.due(50)).toBe(false);
    expect(clock.due(100)).toBe(true);
    clock.advanced(1000); // the frame came late
    expect(clock.due(1050)).toBe(false);
    expect(clock.due(1100)).toBe(true);
  });
});
