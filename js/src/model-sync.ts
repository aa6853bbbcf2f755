// The notebook widget's traitlets as a SyncHost: `file_index`, `frame`, `window_center`,
// `window_width`, `tool` mirror the view both ways; `annotations_version` says ROIs were set
// from Python; `layers_version` that layers changed from Python. Pushes are throttled so a W/L
// drag does not flood the kernel.

import type { ToolId } from "./keys";
import { type SyncHost, throttle, type ViewSync } from "./sync";
import type { MessageModel } from "./transport/widget";

/** The part of an anywidget model this module uses (plus the message part for the transport). */
export interface ModelSync extends MessageModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, cb: (...args: never[]) => void): void;
  off(event: string, cb: (...args: never[]) => void): void;
}

const PUSH_MS = 150;
const FIELDS = ["file_index", "frame", "window_center", "window_width", "tool"] as const;

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function read(model: ModelSync): Partial<ViewSync> {
  const out: Partial<ViewSync> = {};
  const file = num(model.get("file_index"));
  const frame = num(model.get("frame"));
  if (file !== null) out.file = file;
  if (frame !== null) out.frame = frame;
  out.wc = num(model.get("window_center"));
  out.ww = num(model.get("window_width"));
  const tool = model.get("tool");
  if (typeof tool === "string") out.tool = tool as ToolId;
  return out;
}

export function modelSync(model: ModelSync): SyncHost {
  let applying = false;
  const write = throttle(PUSH_MS, (s: ViewSync) => {
    applying = true;
    try {
      model.set("file_index", s.file);
      model.set("frame", s.frame);
      model.set("window_center", s.wc);
      model.set("window_width", s.ww);
      model.set("tool", s.tool);
      model.save_changes();
    } finally {
      applying = false;
    }
  });
  return {
    initial: () => read(model),
    push: write,
    listen(apply, roisChanged) {
      const onChange = () => {
        if (!applying) apply(read(model));
      };
      const onRois = () => roisChanged();
      for (const f of FIELDS) model.on(`change:${f}`, onChange);
      model.on("change:annotations_version", onRois);
      return () => {
        for (const f of FIELDS) model.off(`change:${f}`, onChange);
        model.off("change:annotations_version", onRois);
      };
    },
    watchLayers(changed) {
      const on = () => changed();
      model.on("change:layers_version", on);
      return () => model.off("change:layers_version", on);
    },
  };
}
