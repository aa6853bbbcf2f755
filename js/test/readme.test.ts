// README.md names modules and the page's data-* attributes, and points to the one description of
// the widget message protocol: check those against the code.

import { describe, expect, it } from "vitest";
import widgetPy from "../../dcmview/widget.py?raw";
import readme from "../README.md?raw";
import widgetTs from "../src/transport/widget.ts?raw";

// Every source file, by path (as the README names them).
const sources = import.meta.glob<string>("../src/**/*.{ts,css}", {
  query: "?raw",
  import: "default",
});
const paths = Object.keys(sources).map((p) => p.replace(/^\.\.\//, ""));

/** The "dcmview:..." message types named in a text. */
const messageTypes = (text: string) => new Set(text.match(/dcmview:[a-z]+/g) ?? []);

/** The leading comment of a source file. */
function header(text: string): string {
  const lines = text.split("\n");
  return lines
    .slice(
      0,
      lines.findIndex((l) => l !== "" && !l.startsWith("//")),
    )
    .join("\n");
}

describe("js/README.md", () => {
  it("names only modules that exist", () => {
    const named = [...readme.matchAll(/`(src\/[^`]+)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    const exists = (name: string) =>
      name.endsWith("/") ? paths.some((p) => p.startsWith(name)) : paths.includes(name);
    expect(named.filter((name) => !exists(name))).toEqual([]);
  });

  it("names only data-* attributes the viewer writes", async () => {
    const section = readme.slice(readme.indexOf("## State for scripts and tests"));
    // Attribute names are the one-word code spans; values are listed as `a|b|c`.
    const names = [...section.matchAll(/`([a-z][a-z-]*)`/g)].map((m) => m[1]!);
    expect(names).toContain("shown-frame");
    const code = (await Promise.all(Object.values(sources).map((load) => load()))).join("\n");
    const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const written = (name: string) => new RegExp(`\\.${camel(name)} = `).test(code);
    expect(names.filter((name) => !written(name))).toEqual([]);
  });

  it("points to the protocol's one description instead of copying it", () => {
    expect(readme).toContain("`src/transport/widget.ts`");
    expect(messageTypes(readme).size).toBe(0);
  });
});

describe("widget message protocol", () => {
  const described = messageTypes(header(widgetTs));

  it("is described with every message type the viewer sends or reads", () => {
    const code = widgetTs.slice(header(widgetTs).length);
    expect(described).toEqual(messageTypes(code));
  });

  it("names the message types the kernel side (dcmview/widget.py) uses", () => {
    expect(described).toEqual(messageTypes(widgetPy));
    expect(described).toEqual(
      new Set(["dcmview:request", "dcmview:requests", "dcmview:cancel", "dcmview:response"]),
    );
  });
});
