// The file explorer: files grouped patient -> study -> series, a filter box, click to open.
// Groups fold; with many files the series start folded so that 500+ files stay quick to browse.

import { fileLabel, filterFiles, groupFiles, groupKeys } from "../files";
import type { FileSummary } from "../types";
import { h, setChildren } from "./dom";

/** Above this many files, series start folded. */
const FOLD_SERIES_ABOVE = 300;

export class FileTree {
  readonly el: HTMLElement;
  private readonly list: HTMLDivElement;
  private readonly filter: HTMLInputElement;
  private readonly count: HTMLSpanElement;
  private files: readonly FileSummary[] = [];
  private active: number | null = null;
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
    this.list = h("div", { class: "dcmv-tree", role: "tree" });
    this.count = h("span", { class: "dcmv-pane-count" });
    this.el = h(
      "aside",
      { class: "dcmv-pane dcmv-files" },
      h(
        "div",
        { class: "dcmv-pane-head" },
        h("span", {}, "Files "),
        this.count,
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
      this.filter,
      this.list,
    );
  }

  setFiles(files: readonly FileSummary[]): void {
    if (files.length === this.files.length && files.every((f, i) => f === this.files[i])) return;
    this.files = files;
    this.render();
  }

  setActive(index: number | null): void {
    if (index === this.active) return;
    this.active = index;
    const file = this.files.find((f) => f.index === index);
    if (file && !this.list.querySelector(`.dcmv-file[data-file="${index}"]`)) {
      // Unfold the groups holding the file so the active row can be seen.
      const keys = groupKeys(file);
      for (const k of [keys.patient, keys.study, keys.series]) this.toggled.set(k, true);
      this.render();
    }
    for (const el of this.list.querySelectorAll<HTMLElement>(".dcmv-file")) {
      el.setAttribute("aria-selected", String(el.dataset.file === String(index)));
    }
  }

  private isOpen(key: string, byDefault: boolean): boolean {
    return this.toggled.get(key) ?? byDefault;
  }

  render(): void {
    const q = this.filter.value;
    const shown = filterFiles(this.files, q);
    this.count.textContent = q ? `${shown.length} of ${this.files.length}` : `${this.files.length}`;
    const foldSeries = !q && this.files.length > FOLD_SERIES_ABOVE;
    const group = (
      key: string,
      label: string,
      cls: string,
      n: number,
      open: boolean,
      body: () => Node[],
    ) => {
      const head = h(
        "div",
        {
          class: `dcmv-node ${cls}`,
          role: "treeitem",
          "aria-expanded": String(open),
          title: label,
        },
        h("span", { class: "dcmv-twisty" }, open ? "▾" : "▸"),
        h("span", { class: "dcmv-node-label" }, label),
        h("span", { class: "dcmv-node-count" }, String(n)),
      );
      head.addEventListener("click", () => {
        this.toggled.set(key, !open);
        this.render();
      });
      return h(
        "div",
        { class: "dcmv-group-node" },
        head,
        open ? h("div", { class: "dcmv-children" }, ...body()) : null,
      );
    };
    const rows = groupFiles(shown).map((p) =>
      group(p.key, p.label, "dcmv-patient", p.fileCount, this.isOpen(p.key, true), () =>
        p.studies.map((s) =>
          group(
            s.key,
            s.label,
            "dcmv-study",
            s.series.reduce((a, r) => a + r.files.length, 0),
            this.isOpen(s.key, true),
            () =>
              s.series.map((r) =>
                group(
                  r.key,
                  r.label,
                  "dcmv-series",
                  r.files.length,
                  this.isOpen(r.key, !foldSeries),
                  () => r.files.map((f) => this.fileRow(f)),
                ),
              ),
          ),
        ),
      ),
    );
    setChildren(
      this.list,
      ...(rows.length
        ? rows
        : [h("div", { class: "dcmv-empty" }, q ? "No file matches." : "No files yet.")]),
    );
  }

  private fileRow(f: FileSummary): HTMLElement {
    const row = h(
      "div",
      {
        class: "dcmv-file",
        role: "treeitem",
        title: f.path,
        "aria-selected": String(f.index === this.active),
        dataset: { file: String(f.index) },
      },
      fileLabel(f),
    );
    row.addEventListener("click", () => this.onOpen(f));
    return row;
  }
}
