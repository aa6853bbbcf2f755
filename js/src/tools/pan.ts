// Pan drag: the image follows the pointer.

import type { Tool } from "./types";

export const panTool: Tool = {
  begin(host, x0, y0) {
    const start = host.view();
    host.setCursor("grabbing");
    return {
      move(x, y) {
        host.setView({ ...start, panX: start.panX + x - x0, panY: start.panY + y - y0 });
      },
      end() {
        host.setCursor("grab");
      },
    };
  },
  hover(host) {
    host.setCursor("grab");
  },
};
