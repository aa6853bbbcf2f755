// Keyboard shortcuts of SPEC §6, pure: a key event -> an action name, or null.

export type ToolId = "wl" | "pan" | "zoom" | "scroll" | "roi" | "redact";

export type Action =
  | { type: "frame"; delta: 1 | -1 }
  /** Previous (-1) or next (+1) stack in explorer order. */
  | { type: "stack"; delta: 1 | -1 }
  | { type: "cine" }
  | { type: "tool"; tool: ToolId }
  | { type: "delete-roi" }
  | { type: "reset" }
  | { type: "escape" };

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
}

const TOOL_KEYS: Record<string, ToolId> = {
  w: "wl",
  p: "pan",
  z: "zoom",
  s: "scroll",
  r: "roi",
  x: "redact",
};

/** True when the event target takes text (shortcuts must not steal keystrokes). */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string } | null;
  if (!el || typeof el.tagName !== "string") return false;
  const tag = el.tagName.toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable) return true;
  if (tag !== "INPUT") return false;
  const type = (el.type ?? "text").toLowerCase();
  return !["button", "checkbox", "radio", "range", "submit", "reset"].includes(type);
}

export function actionFor(e: KeyLike): Action | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isTyping(e.target)) return null;
  switch (e.key) {
    case "ArrowRight":
    case "]":
      return { type: "frame", delta: 1 };
    case "ArrowLeft":
    case "[":
      return { type: "frame", delta: -1 };
    case "ArrowUp":
      return { type: "stack", delta: -1 };
    case "ArrowDown":
      return { type: "stack", delta: 1 };
    case " ":
    case "Spacebar":
      return { type: "cine" };
    case "Delete":
    case "Backspace":
      return { type: "delete-roi" };
    case "Escape":
      return { type: "escape" };
  }
  const tool = TOOL_KEYS[e.key.toLowerCase()];
  return tool ? { type: "tool", tool } : null;
}
