import { describe, expect, it } from "vitest";
import { actionFor, isTyping } from "../src/keys";

const key = (k: string, over: Partial<Parameters<typeof actionFor>[0]> = {}) =>
  actionFor({ key: k, ctrlKey: false, metaKey: false, altKey: false, target: null, ...over });

describe("shortcuts", () => {
  it("maps arrows and brackets to frames, Space to cine", () => {
    expect(key("ArrowRight")).toEqual({ type: "frame", delta: 1 });
    expect(key("]")).toEqual({ type: "frame", delta: 1 });
    expect(key("ArrowLeft")).toEqual({ type: "frame", delta: -1 });
    expect(key("[")).toEqual({ type: "frame", delta: -1 });
    expect(key(" ")).toEqual({ type: "cine" });
  });

  it("maps W P Z S R to tools in either case", () => {
    expect(key("w")).toEqual({ type: "tool", tool: "wl" });
    expect(key("P")).toEqual({ type: "tool", tool: "pan" });
    expect(key("z")).toEqual({ type: "tool", tool: "zoom" });
    expect(key("s")).toEqual({ type: "tool", tool: "scroll" });
    expect(key("r")).toEqual({ type: "tool", tool: "roi" });
  });

  it("maps X to the Redact tool", () => {
    expect(key("x")).toEqual({ type: "tool", tool: "redact" });
    expect(key("X")).toEqual({ type: "tool", tool: "redact" });
  });

  it("maps Delete to removing the selected ROI", () => {
    expect(key("Delete")).toEqual({ type: "delete-roi" });
  });

  it("ignores keys with modifiers and keys typed into inputs", () => {
    expect(key("r", { ctrlKey: true })).toBeNull();
    expect(
      key("w", { target: { tagName: "INPUT", type: "search" } as unknown as EventTarget }),
    ).toBeNull();
    expect(key(" ", { target: { tagName: "TEXTAREA" } as unknown as EventTarget })).toBeNull();
    expect(isTyping({ tagName: "INPUT", type: "range" } as unknown as EventTarget)).toBe(false);
    expect(isTyping({ tagName: "DIV", isContentEditable: true } as unknown as EventTarget)).toBe(
      true,
    );
  });
});
