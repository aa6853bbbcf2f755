// Cine playback driven by requestAnimationFrame: shows the next frame when it is due and decoded,
// keeps a window of frames ahead of the play position prefetching, and stalls (not skips) while
// the next frame is still on its way.

import { CineClock, type CineMode, DEFAULT_FPS, nextFrame, upcomingFrames } from "./cine";

/** What playback walks: positions 0..length-1 of the sequence shown (a file's frames today). */
export interface PlaybackHost {
  /** How many positions there are (0 when nothing is shown). */
  length(): number;
  position(): number;
  /** Is the frame at this position decoded and ready to show? */
  ready(position: number): boolean;
  show(position: number): void;
  prefetch(positions: number[]): void;
  changed(): void;
}

/** Frames kept in flight ahead of playback: about a second and a half, within bounds. */
export function lookahead(fps: number, count: number): number {
  return Math.min(count - 1, Math.max(6, Math.min(90, Math.ceil(fps * 1.5))));
}

export class Playback {
  playing = false;
  fps: number = DEFAULT_FPS;
  mode: CineMode = "loop";
  /** Frames that were due but not yet decoded (playback waited for them). */
  stalls = 0;
  private stalled = false;
  private dir: 1 | -1 = 1;
  private clock: CineClock | null = null;
  private raf = 0;

  constructor(private readonly host: PlaybackHost) {}

  toggle(): void {
    if (this.playing) this.stop();
    else this.play();
  }

  play(): void {
    if (this.playing || this.host.length() < 2) return;
    this.playing = true;
    this.dir = 1;
    this.clock = new CineClock(this.fps, performance.now());
    this.refill();
    this.raf = requestAnimationFrame((t) => this.tick(t));
    this.host.changed();
  }

  stop(): void {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.host.changed();
  }

  setFps(fps: number): void {
    this.fps = fps;
    this.clock?.setFps(fps, performance.now());
    this.host.changed();
  }

  setMode(mode: CineMode): void {
    this.mode = mode;
    this.host.changed();
  }

  private refill(): void {
    const n = this.host.length();
    if (n === 0) return;
    const at = this.host.position();
    this.host.prefetch(upcomingFrames(at, this.dir, n, this.mode, lookahead(this.fps, n)));
  }

  private tick(now: number): void {
    if (!this.playing || !this.clock) return;
    const n = this.host.length();
    if (n === 0) {
      this.stop();
      return;
    }
    // Half a display refresh of slack: a frame goes out on the refresh closest to its tick.
    if (this.clock.due(now, 8)) {
      const step = nextFrame(this.host.position(), this.dir, n, this.mode);
      if (this.host.ready(step.frame)) {
        this.stalled = false;
        this.dir = step.dir;
        this.host.show(step.frame);
        this.clock.advanced(now);
        this.refill();
      } else {
        if (!this.stalled) this.stalls++;
        this.stalled = true;
        this.refill();
      }
    }
    this.raf = requestAnimationFrame((t) => this.tick(t));
  }
}
