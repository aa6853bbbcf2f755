// The file explorer: files grouped patient -> study -> series (or by folder), a filter box,
// click to open. Groups fold; with many files the series start folded. The tree is a flat list
// of rows of which only those near the visible part are in the DOM, so 10,000 files, all
// unfolded, browse as quickly as 50.

import { commonFolder, fileLabel, fileMeta, filterFiles, folderKeys, groupKeys } from "../files";
import { fileRowIndex, folderRows, type GroupKind, studyRows, type TreeRow } from "../tree-rows";
import type { FileSummary } from "../types";
import { h } from "./dom";
import { VirtualList } from "./virtual-list";

/** Above this many files, series (and folders) start folded. */
const FOLD_SERIES_ABOVE = 300;
/** Height of one row in CSS px (the list places rows by it; the stylesheet reads it). */
const ROW_PX = 22;

export class FileTree {
  readonly el: HTMLElement;
  private readonly list: VirtualList<TreeRow>;
  private rows: TreeRow[] = [];
  private readonly filter: HTMLInputElement;
  private readonly count: HTMLSpanElement;
  private files: readonly FileSummary[] = [];
  private active: number | null = null;
  private mode: "study" | "folder" = "study";
  private readonly modeButtons: HTMLButtonElement[];
  /** Groups the user folded or unfolded (overrides the default). */
  private readonly toggled = new Map<string, boolean>();

  constructor(
    private readonly onOpen: (f: FileSummary) => void,
    onCollapse: () => void,
  ) {
    this.filter = h("input", {
      type: "search",
      class: "dcmv-filter",
      placeholder: "Filter files…",
      "aria-label": "Filter files",
    });
    this.filter.addEventListener("input", () => this.render());
    this.list = new VirtualList(h("div", { class: "dcmv-tree", role: "tree" }), ROW_PX, (row) =>
      this.drawRow(row),
    );
    this.count = h("span", { class: "dcmv-pane-count" });
    this.modeButtons = (["study", "folder"] as const).map((m) =>
      h(
        "button",
        {
          type: "button",
          class: "dcmv-btn dcmv-tree-mode",
          "aria-pressed": String(m === this.mode),
          title: m === "study" ? "Group by patient, study and series" : "Group by folder",
          dataset: { mode: m },
          onclick: () => this.setMode(m),
        },
        m === "study" ? "Study" : "Folder",
      ),
    );
    this.el = h(
      "aside",
      { class: "dcmv-pane dcmv-files" },
      h(
        "div",
        { class: "dcmv-pane-head" },
        h("span", {}, "Files"),
        h("span", { class: "dcmv-tree-modes" }, ...this.modeButtons),
        h(
          "button",
          {
            type: "button",
            class: "dcmv-btn dcmv-collapse",
            title: "Hide the file explorer",
            onclick: onCollapse,
          },
          "«",
        ),
      ),
      // The count sits by the filter it counts: the header of a 250 px pane has no room for
      // "10000 of 10000" beside the mode buttons.
      h("div", { class: "dcmv-filter-row" }, this.filter, this.count),
      this.list.el,
    );
  }

  setFiles(files: readonly FileSummary[]): void {
    if (files.length === this.files.length && files.every((f, i) => f === this.files[i])) return;
    this.files = files;
    this.render();
  }

  setMode(mode: "study" | "folder"): void {
    if (mode === this.mode) return;
    this.mode = mode;
    for (const b of this.modeButtons)
      b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    this.render();
    this.reveal();
  }

  setActive(index: number | null): void {
    if (index === this.active) return;
    this.active = index;
    this.reveal();
  }

  /** Unfold the groups holding the active file, scroll its row into view, and mark it. */
  private reveal(): void {
    const index = this.active;
    const file = index === null ? undefined : this.files.find((f) => f.index === index);
    if (index !== null && file) {
      if (fileRowIndex(this.rows, index) < 0) {
        const g = groupKeys(file);
        const keys =
          this.mode === "study"
            ? [g.patient, g.study, g.series]
            : folderKeys(file, commonFolder(this.files));
        for (const k of keys) this.toggled.set(k, true);
        this.render();
      }
      const at = fileRowIndex(this.rows, index);
      if (at >= 0) this.list.scrollTo(at);
    }
    for (const el of this.list.el.querySelectorAll<HTMLElement>(".dcmv-file")) {
      el.setAttribute("aria-selected", String(el.dataset.file === String(index)));
    }
  }

  render(): void {
    const q = this.filter.value;
    const shown = filterFiles(this.files, q);
    this.count.textContent = q ? `${shown.length} of ${this.files.length}` : `${this.files.length}`;
    const fold = !q && this.files.length > FOLD_SERIES_ABOVE;
    const isOpen = (key: string, kind: GroupKind) =>
      this.toggled.get(key) ?? !(fold && (kind === "series" || kind === "folder"));
    this.rows = this.mode === "study" ? studyRows(shown, isOpen) : folderRows(shown, isOpen);
    if (this.rows.length) this.list.setItems(this.rows);
    else
      this.list.showInstead(
        h("div", { class: "dcmv-empty" }, q ? "No file matches." : "No files yet."),
      );
  }

  private drawRow(row: TreeRow): HTMLElement {
    if (row.kind === "file") return this.fileRow(row.file, row.depth);
    if (row.kind === "root")
      return h(
        "div",
        { class: "dcmv-tree-root", title: row.label },
        h("bdi", { dir: "ltr" }, row.label),
      );
    const el = h(
      "div",
      {
        class: `dcmv-node dcmv-${row.kind}`,
        role: "treeitem",
        "aria-level": String(row.depth + 1),
        "aria-expanded": String(row.open),
        title: row.label,
      },
      h("span", { class: "dcmv-twisty" }, row.open ? "▾" : "▸"),
      h("span", { class: "dcmv-node-label" }, row.label),
      h("span", { class: "dcmv-node-count" }, String(row.count)),
    );
    el.style.setProperty("--dcmv-depth", String(row.depth));
    el.addEventListener("click", () => {
      this.toggled.set(row.key, !row.open);
      this.render();
    });
    return el;
  }

  private fileRow(f: FileSummary, depth: number): HTMLElement {
    const meta = fileMeta(f);
    const row = h(
      "div",
      {
        class: "dcmv-file",
        role: "treeitem",
        "aria-level": String(depth + 1),
        title: f.path,
        "aria-selected": String(f.index === this.active),
        dataset: { file: String(f.index) },
      },
      h("span", { class: "dcmv-file-name" }, fileLabel(f)),
      meta.badge ? h("span", { class: "dcmv-badge" }, meta.badge) : null,
      meta.burnedIn
        ? h(
            "span",
            {
              class: "dcmv-badge dcmv-badge-burned",
              title: "Burned In Annotation: YES (the pixels carry text, perhaps identifiers)",
            },
            "burned-in",
          )
        : null,
      h(
        "span",
        { class: "dcmv-file-meta" },
        [meta.matrix, meta.frames].filter(Boolean).join(" · "),
      ),
    );
    row.style.setProperty("--dcmv-depth", String(depth));
    row.addEventListener("click", () => this.onOpen(f));
    return row;
  }
}
