// Cine playback. `nextFrame` is the pure stepping rule (loop or sweep); `CineClock` decides, from
// a monotonic clock, when the next frame is due so that the average rate holds the chosen FPS even
// when display refreshes do not divide it evenly.

export type CineMode = "loop" | "sweep";

export const FPS_CHOICES = [1, 5, 10, 15, 24, 30, 60] as const;
export const DEFAULT_FPS = 10;

export interface CineStep {
  frame: number;
  /** +1 forwards, -1 backwards (sweep reverses at the ends). */
  dir: 1 | -1;
}

/** The frame after `frame` in a series of `count` frames. */
export function nextFrame(frame: number, dir: 1 | -1, count: number, mode: CineMode): CineStep {
  if (count <= 1) return { frame: 0, dir };
  if (mode === "loop") {
    return { frame: (((frame + dir) % count) + count) % count, dir };
  }
  const n = frame + dir;
  if (n >= count) return { frame: count - 2, dir: -1 };
  if (n < 0) return { frame: 1, dir: 1 };
  return { frame: n, dir };
}

/** The frames playback will show next, in order (for prefetching). */
export function upcomingFrames(
  frame: number,
  dir: 1 | -1,
  count: number,
  mode: CineMode,
  n: number,
): number[] {
  const out: number[] = [];
  let step: CineStep = { frame, dir };
  for (let i = 0; i < Math.min(n, count - 1); i++) {
    step = nextFrame(step.frame, step.dir, count, mode);
    out.push(step.frame);
  }
  return out;
}

/**
 * Frame timing: `due(now)` tells whether a frame is due; `advanced(now)` records one shown. The
 * schedule runs on ideal ticks (start + k / fps); when playback falls behind by more than one
 * interval (e.g. waiting for a frame), it restarts from now instead of rushing to catch up.
 */
export class CineClock {
  private next = 0;
  private interval: number;

  constructor(fps: number, now: number) {
    this.interval = 1000 / fps;
    this.next = now + this.interval;
  }

  setFps(fps: number, now: number): void {
    this.interval = 1000 / fps;
    this.next = now + this.interval;
  }

  /** Is a frame due? `slack` (ms) lets a frame go out on the refresh just before its tick. */
  due(now: number, slack = 0): boolean {
    return now + slack >= this.next;
  }

  advanced(now: number): void {
    this.next += this.interval;
    if (now - this.next > this.interval) this.next = now + this.interval;
  }
}
