// The explorer's tree flattened into the rows a list shows, given which groups are open. Pure:
// 10,000 files become their rows in a few milliseconds, and only the rows on screen become DOM
// elements (see ui/virtual-list.ts).

import { type FolderNode, folderTree, groupFiles } from "./files";
import type { FileSummary } from "./types";

export type GroupKind = "patient" | "study" | "series" | "folder";

export interface GroupRow {
  kind: GroupKind;
  key: string;
  depth: number;
  label: string;
  /** Files below the group. */
  count: number;
  open: boolean;
}

export interface FileRow {
  kind: "file";
  key: string;
  depth: number;
  file: FileSummary;
}

/** The folder view's first row: the folder every file is below (not a group). */
export interface RootRow {
  kind: "root";
  key: string;
  depth: 0;
  label: string;
}

export type TreeRow = GroupRow | FileRow | RootRow;

/** Whether the group `key` of `kind` is unfolded. */
export type IsOpen = (key: string, kind: GroupKind) => boolean;

function fileRows(out: TreeRow[], files: readonly FileSummary[], depth: number): void {
  for (const file of files) out.push({ kind: "file", key: `file:${file.index}`, depth, file });
}

/** Rows of the patient → study → series view; the children of a folded group are left out. */
export function studyRows(files: readonly FileSummary[], isOpen: IsOpen): TreeRow[] {
  const out: TreeRow[] = [];
  for (const p of groupFiles(files)) {
    if (!push(out, isOpen, "patient", p.key, 0, p.label, p.fileCount)) continue;
    for (const s of p.studies) {
      const count = s.series.reduce((n, r) => n + r.files.length, 0);
      if (!push(out, isOpen, "study", s.key, 1, s.label, count)) continue;
      for (const r of s.series) {
        if (push(out, isOpen, "series", r.key, 2, r.label, r.files.length))
          fileRows(out, r.files, 3);
      }
    }
  }
  return out;
}

/** Rows of the folder view: the common folder, then its folders and files. */
export function folderRows(files: readonly FileSummary[], isOpen: IsOpen): TreeRow[] {
  if (!files.length) return [];
  const top = folderTree(files);
  const out: TreeRow[] = [{ kind: "root", key: "root", depth: 0, label: top.label }];
  const walk = (n: FolderNode, depth: number): void => {
    if (!push(out, isOpen, "folder", n.key, depth, n.label, n.fileCount)) return;
    for (const child of n.folders) walk(child, depth + 1);
    fileRows(out, n.files, depth + 1);
  };
  for (const child of top.folders) walk(child, 0);
  fileRows(out, top.files, 0);
  return out;
}

/** Add a group's row; is it open (should its children follow)? */
function push(
  out: TreeRow[],
  isOpen: IsOpen,
  kind: GroupKind,
  key: string,
  depth: number,
  label: string,
  count: number,
): boolean {
  const open = isOpen(key, kind);
  out.push({ kind, key, depth, label, count, open });
  return open;
}

/** Position of a file's row, or -1 when it is not shown (filtered out or folded away). */
export function fileRowIndex(rows: readonly TreeRow[], index: number): number {
  return rows.findIndex((r) => r.kind === "file" && r.file.index === index);
}
