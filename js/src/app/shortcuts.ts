// Keyboard shortcuts (SPEC §6) bound to the viewer: `actionFor` (keys.ts) names the action, this
// carries it out. The listener sits on the whole page, or on the widget only (a notebook keeps
// its own keys).

import { actionFor } from "../keys";
import type { Viewer } from "../viewer";

/** Listen for shortcuts on `target`; returns the function that stops listening. */
export function bindShortcuts(target: EventTarget, viewer: Viewer): () => void {
  const onKey = (e: KeyboardEvent) => {
    const a = actionFor(e);
    if (!a) return;
    e.preventDefault();
    switch (a.type) {
      case "frame":
        viewer.navigate({ kind: "step", delta: a.delta });
        break;
      case "stack":
        viewer.navigate({ kind: "stack", delta: a.delta });
        break;
      case "cine":
        viewer.playback.toggle();
        break;
      case "tool":
        viewer.setTool(a.tool);
        break;
      case "delete-roi":
        viewer.deleteSelected();
        break;
      case "reset":
        viewer.reset();
        break;
      case "escape":
        viewer.select(null);
        break;
    }
  };
  target.addEventListener("keydown", onKey as EventListener);
  return () => target.removeEventListener("keydown", onKey as EventListener);
}
