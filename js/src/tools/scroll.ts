// Scroll drag: moves through the sequence shown, one position per few pixels of vertical travel.

import type { Tool } from "./types";

export const SCROLL_PIXELS_PER_FRAME = 8;

/** The frame reached after dragging `dy` pixels from `start`, clamped to the series. */
export function scrollFrame(start: number, dy: number, count: number): number {
  const f = start + Math.trunc(dy / SCROLL_PIXELS_PER_FRAME);
  return Math.min(count - 1, Math.max(0, f));
}

export const scrollTool: Tool = {
  begin(host, _x0, y0) {
    const start = host.position();
    return {
      move(_x, y) {
        const to = scrollFrame(start, y - y0, host.length());
        if (to !== host.position()) host.seek(to);
      },
      end() {},
    };
  },
  hover(host) {
    host.setCursor("ns-resize");
  },
};
