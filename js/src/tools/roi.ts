// ROI tool: press on a handle of the selected ROI to resize it, on an ROI to select and move it,
// elsewhere to draw a new one (a click without a drag just clears the selection).

import { boxFromPoints, cursorFor, hitTest, moveBox, type Roi, resizeBox } from "../rois";
import type { Drag, Tool, ToolHost } from "./types";

/** Screen pixels within which an edge or corner can be grabbed. */
const GRAB_PX = 6;

function hitAt(host: ToolHost, x: number, y: number) {
  const p = host.toImage(x, y);
  if (!p) return null;
  const tol = GRAB_PX / host.imageScale();
  return { p, hit: hitTest(host.rois(), host.frame(), p[0], p[1], tol, host.selected()) };
}

function replaceAt(rois: readonly Roi[], i: number, roi: Roi): Roi[] {
  const out = [...rois];
  out[i] = roi;
  return out;
}

export const roiTool: Tool = {
  begin(host, x0, y0): Drag | null {
    const size = host.imageSize();
    const at = hitAt(host, x0, y0);
    if (!size || !at) return null;
    const [ix0, iy0] = at.p;
    const { hit } = at;
    if (hit) {
      host.select(hit.index);
      const start = host.rois()[hit.index]!;
      let latest: Roi[] | null = null;
      return {
        move(x, y) {
          const p = host.toImage(x, y);
          if (!p) return;
          const box =
            hit.part === "body"
              ? moveBox(start.box, p[1] - iy0, p[0] - ix0, size)
              : resizeBox(start.box, hit.part, p[0], p[1], size);
          const changed = box.some((v, k) => v !== start.box[k]);
          latest = changed ? replaceAt(host.rois(), hit.index, { ...start, box }) : null;
          host.setRois(latest ?? [...host.rois()], false);
        },
        end() {
          if (latest) host.setRois(latest, true);
        },
      };
    }
    host.select(null);
    return {
      move(x, y) {
        const p = host.toImage(x, y);
        if (p) host.setDraft(boxFromPoints(ix0, iy0, p[0], p[1], size));
      },
      end(x, y) {
        host.setDraft(null);
        const p = host.toImage(x, y);
        // A click (under 3 screen pixels of travel) draws nothing.
        if (!p || Math.hypot(x - x0, y - y0) < 3) return;
        const box = boxFromPoints(ix0, iy0, p[0], p[1], size);
        if (!box) return;
        const rois = [...host.rois(), { box, frames: host.newRoiFrames() }];
        host.setRois(rois, true);
        host.select(rois.length - 1);
      },
    };
  },
  hover(host, x, y) {
    const at = hitAt(host, x, y);
    host.setCursor(cursorFor(at?.hit?.part ?? null));
  },
};
