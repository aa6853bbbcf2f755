// Keyboard shortcuts (SPEC §6) bound to the viewer: `actionFor` (keys.ts) names the action, this
// carries it out. The listener sits on the whole page, or, in a notebook, takes only the keys
// pressed inside the widget (the notebook keeps its own keys everywhere else).
//
// Why the notebook case listens on the window in the capture phase: Notebook 7 runs its
// command-mode shortcuts (`r` raw cell, arrows, `z`) from a capturing listener on the document,
// before the widget sees the key. The window's capture phase comes first; a key the viewer acts
// on stops there, and every other key (Ctrl+S, Shift+Enter…) still reaches the notebook.

import { actionFor } from "../keys";
import type { Viewer } from "../viewer";

/**
 * Listen for shortcuts on the whole page (`within` null), or only for keys pressed inside
 * `within`; returns the function that stops listening.
 */
export function bindShortcuts(viewer: Viewer, within: HTMLElement | null): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (within && !(e.target instanceof Node && within.contains(e.target))) return;
    const a = actionFor(e);
    if (!a) return;
    e.preventDefault();
    if (within) e.stopPropagation();
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
  const target: EventTarget = within ? window : document;
  const capture = within !== null;
  target.addEventListener("keydown", onKey as EventListener, capture);
  return () => target.removeEventListener("keydown", onKey as EventListener, capture);
}
