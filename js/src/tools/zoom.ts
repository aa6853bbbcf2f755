// Zoom drag: up zooms in, down zooms out, about the point where the drag started.

import { zoomAt } from "../viewport/transform";
import type { Tool } from "./types";

/** Zoom factor for a vertical drag of `dy` pixels (200 px up doubles the size). */
export function dragZoomFactor(dy: number): number {
  return 2 ** (-dy / 200);
}

export const zoomTool: Tool = {
  begin(host, x0, y0) {
    const start = host.view();
    return {
      move(_x, y) {
        host.setView(zoomAt(start, dragZoomFactor(y - y0), x0, y0, host.canvasSize()));
      },
      end() {},
    };
  },
  hover(host) {
    host.setCursor("zoom-in");
  },
};
