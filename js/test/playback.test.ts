import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Playback, type PlaybackHost } from "../src/playback";

/** A sequence of `length` positions; `late` positions are not decoded until released. */
function host(length: number, late: Set<number> = new Set()) {
  const h = {
    at: 0,
    shown: [] as number[],
    prefetched: [] as number[][],
    changes: 0,
    length: () => length,
    position: () => h.at,
    ready: (i: number) => !late.has(i),
    show: (i: number) => {
      h.at = i;
      h.shown.push(i);
    },
    prefetch: (positions: number[]) => h.prefetched.push(positions),
    changed: () => h.changes++,
  };
  return h satisfies PlaybackHost;
}

// A 60 Hz display on the fake clock.
const REFRESH_MS = 1000 / 60;

describe("cine playback over positions", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    vi.stubGlobal("requestAnimationFrame", (cb: (t: number) => void) =>
      setTimeout(() => cb(performance.now()), REFRESH_MS),
    );
    vi.stubGlobal("cancelAnimationFrame", (id: ReturnType<typeof setTimeout>) => clearTimeout(id));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("shows the positions in order, looping, and prefetches the ones ahead", () => {
    const h = host(5);
    const p = new Playback(h);
    p.setFps(60);
    p.play();
    expect(p.playing).toBe(true);
    expect(h.prefetched[0]).toEqual([1, 2, 3, 4]);
    vi.advanceTimersByTime(1000);
    expect(h.shown.slice(0, 7)).toEqual([1, 2, 3, 4, 0, 1, 2]);
    p.stop();
    const shown = h.shown.length;
    vi.advanceTimersByTime(1000);
    expect(h.shown.length).toBe(shown);
    expect(p.playing).toBe(false);
  });

  it("waits for a position that is not decoded instead of skipping it", () => {
    const late = new Set([2]);
    const h = host(4, late);
    const p = new Playback(h);
    p.setFps(60);
    p.play();
    vi.advanceTimersByTime(500);
    expect(h.shown).toEqual([1]);
    expect(p.stalls).toBe(1);
    late.clear();
    vi.advanceTimersByTime(100);
    expect(h.shown.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it("does not play a single position, nor with nothing shown", () => {
    for (const n of [0, 1]) {
      const p = new Playback(host(n));
      p.play();
      expect(p.playing).toBe(false);
    }
  });
});
