// Window/level drag: right widens, down raises the centre.

import { dragWindow } from "../windowing";
import type { Tool } from "./types";

export const wlTool: Tool = {
  begin(host, x0, y0) {
    const start = host.window();
    if (!start) return null;
    const unit = host.windowUnit();
    return {
      move(x, y) {
        host.setWindow(dragWindow(start, x - x0, y - y0, unit));
      },
      end() {},
    };
  },
  hover(host) {
    host.setCursor(host.window() ? "crosshair" : "default");
  },
};
