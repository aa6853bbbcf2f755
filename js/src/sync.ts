// View state shared with a host (the notebook widget's traitlets): which file, which frame, the
// window and the tool. The viewer pushes its state when it changes; the host pushes values set
// from Python. Neither side knows the other's machinery.

import type { ToolId } from "./keys";

export interface ViewSync {
  file: number;
  frame: number;
  wc: number | null;
  ww: number | null;
  tool: ToolId;
}

export interface SyncHost {
  /** The host's state when the viewer mounts (values set from Python before display). */
  initial(): Partial<ViewSync>;
  /** The viewer's state changed (the host may throttle). */
  push(state: ViewSync): void;
  /** Calls `apply` when the host's state changes, `roisChanged` when ROIs were set elsewhere. */
  listen(apply: (s: Partial<ViewSync>) => void, roisChanged: () => void): () => void;
  /** Calls `changed` when layers were added, removed or restyled from Python (SPEC §10). */
  watchLayers?(changed: () => void): () => void;
}

export const TOOLS: readonly ToolId[] = ["wl", "pan", "zoom", "scroll", "roi", "redact"];

export function sameSync(a: ViewSync | null, b: ViewSync): boolean {
  return (
    !!a &&
    a.file === b.file &&
    a.frame === b.frame &&
    a.wc === b.wc &&
    a.ww === b.ww &&
    a.tool === b.tool
  );
}

/** The fields of `s` that differ from `current` (what a push from the host must change). */
export function changes(current: ViewSync | null, s: Partial<ViewSync>): Partial<ViewSync> {
  const out: Partial<ViewSync> = {};
  if (s.file !== undefined && s.file !== current?.file) out.file = s.file;
  if (s.frame !== undefined && s.frame !== current?.frame) out.frame = s.frame;
  if (s.tool !== undefined && TOOLS.includes(s.tool) && s.tool !== current?.tool) out.tool = s.tool;
  const wc = s.wc ?? null;
  const ww = s.ww ?? null;
  if (wc !== null && ww !== null && ww > 0 && (wc !== current?.wc || ww !== current?.ww)) {
    out.wc = wc;
    out.ww = ww;
  }
  return out;
}

/** Run `fn` at most once per `ms`, always with the latest value (trailing edge). */
export function throttle<T>(ms: number, fn: (v: T) => void): (v: T) => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: { v: T } | null = null;
  return (v: T) => {
    pending = { v };
    const wait = last + ms - Date.now();
    if (wait <= 0 && !timer) {
      last = Date.now();
      fn(pending.v);
      pending = null;
      return;
    }
    if (timer) return;
    timer = setTimeout(
      () => {
        timer = null;
        last = Date.now();
        if (pending) fn(pending.v);
        pending = null;
      },
      Math.max(0, wait),
    );
  };
}
