// The tools by id (the W, P, Z, S, R shortcuts of SPEC §6, and X of §12). The Redact tool is the
// ROI tool editing the other store of boxes (the viewer's ToolHost hands it the redactions).

import type { ToolId } from "../keys";
import { panTool } from "./pan";
import { roiTool } from "./roi";
import { scrollTool } from "./scroll";
import type { Tool } from "./types";
import { wlTool } from "./wl";
import { zoomTool } from "./zoom";

export const TOOLS: Record<ToolId, Tool> = {
  wl: wlTool,
  pan: panTool,
  zoom: zoomTool,
  scroll: scrollTool,
  roi: roiTool,
  redact: roiTool,
};

export const TOOL_LABELS: Record<ToolId, { label: string; key: string; title: string }> = {
  wl: {
    label: "W/L",
    key: "W",
    title: "Window/level: drag right for a wider window, down for a higher level",
  },
  pan: { label: "Pan", key: "P", title: "Pan: drag the image (middle-drag pans with any tool)" },
  zoom: {
    label: "Zoom",
    key: "Z",
    title: "Zoom: drag up or down (right-drag or Ctrl+wheel zoom with any tool)",
  },
  scroll: {
    label: "Scroll",
    key: "S",
    title: "Scroll: drag up or down through the frames (the wheel scrolls too)",
  },
  roi: {
    label: "ROI",
    key: "R",
    title: "ROI: draw a box; drag a box to move it, its edges to resize; Delete removes it",
  },
  redact: {
    label: "Redact",
    key: "X",
    title:
      "Redact: draw an opaque black box over every frame of the file; drag to move, edges to" +
      " resize; Delete removes it",
  },
};
