// The DICOM tag browser: fetched lazily for the active file when the pane is open; filter by
// keyword, tag or value; expandable sequences; resizable columns; click a row to copy it.

import type { Api } from "../api";
import { copyToClipboard } from "../download";
import { copyText, valueText, visibleRows } from "../tags";
import type { TagNode } from "../types";
import { h, setChildren } from "./dom";

const MIN_COL = 40;

export class TagsPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLDivElement;
  private readonly filter: HTMLInputElement;
  private readonly table: HTMLDivElement;
  private readonly cache = new Map<number, Promise<TagNode[]>>();
  private readonly expanded = new Map<number, Set<string>>();
  private file: number | null = null;
  private nodes: TagNode[] | null = null;
  // Tag, Keyword, VR: with the pane's 400 px the Value column gets the rest, ≥ 100 px.
  private widths = [88, 118, 34];

  constructor(
    private readonly api: Api,
    onCollapse: () => void,
    private readonly flash: (text: string) => void,
    /** Shown above the tags in the same pane (the ROI list). */
    top: HTMLElement | null = null,
  ) {
    this.filter = h("input", {
      type: "search",
      class: "dcmv-filter dcmv-tag-filter",
      placeholder: "Filter tags (keyword, tag or value)…",
      "aria-label": "Filter tags",
    });
    this.filter.addEventListener("input", () => this.render());
    const cols = ["Tag", "Keyword", "VR", "Value"];
    const head = h(
      "div",
      { class: "dcmv-tag-row dcmv-tag-head" },
      ...cols.map((c, i) => {
        const cell = h("div", { class: "dcmv-tag-cell" }, c);
        if (i < 3) cell.append(this.resizer(i));
        return cell;
      }),
    );
    this.body = h("div", { class: "dcmv-tag-body" });
    this.table = h("div", { class: "dcmv-tag-table" }, head, this.body);
    this.applyWidths();
    this.el = h(
      "aside",
      { class: "dcmv-pane dcmv-tags" },
      h(
        "div",
        { class: "dcmv-pane-head" },
        h(
          "button",
          {
            type: "button",
            class: "dcmv-btn dcmv-collapse",
            title: "Hide the tags",
            onclick: onCollapse,
          },
          "»",
        ),
        h("span", {}, "DICOM tags"),
      ),
      top,
      this.filter,
      this.table,
    );
  }

  private resizer(col: number): HTMLElement {
    const grip = h("span", { class: "dcmv-col-resize", title: "Drag to resize" });
    grip.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      e.stopPropagation();
      grip.setPointerCapture(e.pointerId);
      const x0 = e.clientX;
      const w0 = this.widths[col]!;
      const move = (ev: PointerEvent) => {
        this.widths[col] = Math.max(MIN_COL, w0 + ev.clientX - x0);
        this.applyWidths();
      };
      const up = () => {
        grip.removeEventListener("pointermove", move);
        grip.removeEventListener("pointerup", up);
      };
      grip.addEventListener("pointermove", move);
      grip.addEventListener("pointerup", up);
    });
    return grip;
  }

  private applyWidths(): void {
    this.table.style.setProperty(
      "--dcmv-tag-cols",
      `${this.widths.map((w) => `${w}px`).join(" ")} minmax(100px, 1fr)`,
    );
  }

  /** Show the tags of a file (fetching them on first use), or nothing. */
  show(file: number | null): void {
    if (file === this.file && this.nodes) return;
    this.file = file;
    this.nodes = null;
    if (file === null) {
      setChildren(this.body, h("div", { class: "dcmv-empty" }, "No file open."));
      return;
    }
    setChildren(this.body, h("div", { class: "dcmv-empty" }, "Loading tags…"));
    let p = this.cache.get(file);
    if (!p) {
      p = this.api.tags(file);
      this.cache.set(file, p);
      p.catch(() => this.cache.delete(file));
    }
    p.then(
      (nodes) => {
        if (this.file !== file) return;
        this.nodes = nodes;
        this.render();
      },
      (e: unknown) => {
        if (this.file !== file) return;
        const msg = e instanceof Error ? e.message : String(e);
        setChildren(this.body, h("div", { class: "dcmv-error" }, `Tags could not be read: ${msg}`));
      },
    );
  }

  private render(): void {
    if (!this.nodes || this.file === null) return;
    let open = this.expanded.get(this.file);
    if (!open) {
      open = new Set();
      this.expanded.set(this.file, open);
    }
    const rows = visibleRows(this.nodes, open, this.filter.value);
    const set = open;
    setChildren(
      this.body,
      ...(rows.length
        ? rows.map((r) => {
            if (r.kind === "item") {
              return h(
                "div",
                { class: "dcmv-tag-row dcmv-tag-item", style: `--depth:${r.depth}` },
                h("div", { class: "dcmv-tag-cell dcmv-indent" }, r.itemLabel ?? ""),
              );
            }
            const n = r.node!;
            const twisty = r.expandable ? (r.expanded ? "▾ " : "▸ ") : "";
            const row = h(
              "div",
              {
                class: `dcmv-tag-row${r.expandable ? " dcmv-seq" : ""}`,
                style: `--depth:${r.depth}`,
                title: r.expandable ? "Click to expand; Shift+click to copy" : "Click to copy",
                dataset: { keyword: n.keyword },
              },
              h("div", { class: "dcmv-tag-cell dcmv-indent" }, twisty + n.tag),
              h("div", { class: "dcmv-tag-cell" }, n.keyword),
              h("div", { class: "dcmv-tag-cell" }, n.vr),
              h("div", { class: "dcmv-tag-cell dcmv-tag-value" }, valueText(n.value)),
            );
            row.addEventListener("click", (e) => {
              if (r.expandable && !e.shiftKey) {
                if (set.has(r.id)) set.delete(r.id);
                else set.add(r.id);
                this.render();
                return;
              }
              void copyToClipboard(copyText(n)).then((ok) =>
                this.flash(
                  ok ? `Copied ${n.keyword || n.tag}` : "Copy failed: select the text instead",
                ),
              );
            });
            return row;
          })
        : [h("div", { class: "dcmv-empty" }, "No tag matches.")]),
    );
  }
}
