// The file explorer: files grouped patient -> study -> series (or by folder), a filter box,
// click to open. Groups fold; with many files the series start folded so that 500+ files stay
// quick to browse.

import {
  commonFolder,
  type FolderNode,
  fileLabel,
  filterFiles,
  folderKeys,
  folderTree,
  groupFiles,
  groupKeys,
} from "../files";
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
    this.list = h("div", { class: "dcmv-tree", role: "tree" });
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
        h("span", {}, "Files "),
        this.count,
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
      this.filter,
      this.list,
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

  /** Unfold the groups holding the active file so its row can be seen, and mark it. */
  private reveal(): void {
    const index = this.active;
    const file = this.files.find((f) => f.index === index);
    if (file && !this.list.querySelector(`.dcmv-file[data-file="${index}"]`)) {
      const g = groupKeys(file);
      const keys =
        this.mode === "study"
          ? [g.patient, g.study, g.series]
          : folderKeys(file, commonFolder(this.files));
      for (const k of keys) this.toggled.set(k, true);
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
    const folder = (n: FolderNode): HTMLElement =>
      group(n.key, n.label, "dcmv-folder", n.fileCount, this.isOpen(n.key, !foldSeries), () => [
        ...n.folders.map(folder),
        ...n.files.map((f) => this.fileRow(f)),
      ]);
    const byFolder = () => {
      if (!shown.length) return [];
      const top = folderTree(shown);
      return [
        h("div", { class: "dcmv-tree-root", title: top.label }, top.label),
        ...top.folders.map(folder),
        ...top.files.map((f) => this.fileRow(f)),
      ];
    };
    const byStudy = () =>
      groupFiles(shown).map((p) =>
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
    const rows = this.mode === "study" ? byStudy() : byFolder();
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
