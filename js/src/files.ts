// The file explorer's model, pure: files grouped patient -> study -> series, and the filter.

import type { FileSummary } from "./types";

export interface SeriesNode {
  key: string;
  label: string;
  files: FileSummary[];
}

export interface StudyNode {
  key: string;
  label: string;
  series: SeriesNode[];
}

export interface PatientNode {
  key: string;
  label: string;
  studies: StudyNode[];
  fileCount: number;
}

const UNKNOWN = "(unknown)";

function patientLabel(f: FileSummary): string {
  const id = f.patient_id || UNKNOWN;
  // A masked session gives both the same pseudonym: say it once.
  return f.patient_name && f.patient_name !== f.patient_id ? `${id} · ${f.patient_name}` : id;
}

function studyLabel(f: FileSummary): string {
  const parts = [formatDate(f.study_date), f.study_description].filter(Boolean);
  return parts.length ? parts.join(" · ") : f.study_instance_uid || UNKNOWN;
}

function seriesLabel(f: FileSummary): string {
  const num = f.series_number === null || f.series_number === "" ? "" : `#${f.series_number}`;
  const parts = [f.modality, num, f.series_description].filter(Boolean);
  return parts.length ? parts.join(" ") : f.series_instance_uid || UNKNOWN;
}

/** "20240131" -> "2024-01-31"; anything else unchanged. */
export function formatDate(d: string): string {
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d;
}

/** The file's own line in the tree: instance number and file name. */
export function fileLabel(f: FileSummary): string {
  const name = f.path.split(/[\\/]/).pop() ?? f.path;
  const inst = f.instance_number === null || f.instance_number === "" ? "" : `${f.instance_number}`;
  return `${inst ? `${inst} · ` : ""}${name}`;
}

/** What an explorer row says about a file's pixels: matrix, frame count, and badges. */
export interface FileMeta {
  /** "512×512" (columns × rows), or "" when unknown. */
  matrix: string;
  /** "30 fr" for multi-frame files, else "". */
  frames: string;
  /** "no pixels" (no image in the file), "unsupported" (pixels the server cannot decode). */
  badge: "no pixels" | "unsupported" | null;
  /** The file says its pixels carry burned-in text (Burned In Annotation YES). */
  burnedIn: boolean;
}

export function fileMeta(f: FileSummary): FileMeta {
  const matrix = f.columns && f.rows ? `${f.columns}×${f.rows}` : "";
  const frames = f.frame_count > 1 ? `${f.frame_count} fr` : "";
  const badge = !f.has_pixels ? "no pixels" : f.pixels_supported === false ? "unsupported" : null;
  return { matrix, frames, badge, burnedIn: f.burned_in_annotation === "YES" };
}

/** Tree keys of a file's patient, study and series groups. */
export function groupKeys(f: FileSummary): { patient: string; study: string; series: string } {
  const patient = `${f.patient_id}\u0000${f.patient_name}`;
  const study = `${patient}\u0000${f.study_instance_uid}`;
  return { patient, study, series: `${study}\u0000${f.series_instance_uid}` };
}

/** Group files (already in server order) into the tree, keeping first-seen order at each level. */
export function groupFiles(files: readonly FileSummary[]): PatientNode[] {
  const patients = new Map<string, PatientNode>();
  const studies = new Map<string, StudyNode>();
  const series = new Map<string, SeriesNode>();
  for (const f of files) {
    const { patient: pk, study: sk, series: rk } = groupKeys(f);
    let p = patients.get(pk);
    if (!p) {
      p = { key: pk, label: patientLabel(f), studies: [], fileCount: 0 };
      patients.set(pk, p);
    }
    p.fileCount++;
    let s = studies.get(sk);
    if (!s) {
      s = { key: sk, label: studyLabel(f), series: [] };
      studies.set(sk, s);
      p.studies.push(s);
    }
    let r = series.get(rk);
    if (!r) {
      r = { key: rk, label: seriesLabel(f), files: [] };
      series.set(rk, r);
      s.series.push(r);
    }
    r.files.push(f);
  }
  return [...patients.values()];
}

/** Case-insensitive filter on every text a user sees or knows about a file; words are ANDed. */
export function filterFiles(files: readonly FileSummary[], query: string): FileSummary[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...files];
  return files.filter((f) => {
    const hay = [
      f.label,
      f.path,
      f.patient_id,
      f.patient_name,
      f.study_date,
      f.study_description,
      f.series_description,
      f.modality,
      String(f.series_number ?? ""),
      String(f.instance_number ?? ""),
    ]
      .join("\n")
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export interface FolderNode {
  key: string;
  label: string;
  folders: FolderNode[];
  files: FileSummary[];
  fileCount: number;
}

function dirParts(path: string): string[] {
  const parts = path.split(/[\\/]/);
  parts.pop();
  return parts;
}

/** The folders the files share at the top (the tree starts below them). */
export function commonFolder(files: readonly FileSummary[]): string[] {
  let common: string[] | null = null;
  for (const f of files) {
    const parts = dirParts(f.path);
    if (common === null) common = parts;
    else {
      let i = 0;
      while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
      common = common.slice(0, i);
    }
  }
  return common ?? [];
}

/** Keys of the folder nodes holding a file, outermost first (for unfolding to it). */
export function folderKeys(f: FileSummary, root: readonly string[]): string[] {
  const parts = dirParts(f.path).slice(root.length);
  return parts.map((_, i) => `dir:${parts.slice(0, i + 1).join("/")}`);
}

/**
 * Group files by folder below their common folder, keeping server order inside a folder.
 * A chain of folders that each hold only one folder is shown as one node ("a/b/c").
 */
export function folderTree(files: readonly FileSummary[]): FolderNode {
  const root = commonFolder(files);
  const top: FolderNode = {
    key: "dir:",
    label: root.join("/") || "/",
    folders: [],
    files: [],
    fileCount: 0,
  };
  const nodes = new Map<string, FolderNode>([["", top]]);
  for (const f of files) {
    const parts = dirParts(f.path).slice(root.length);
    let node = top;
    node.fileCount++;
    for (let i = 0; i < parts.length; i++) {
      const rel = parts.slice(0, i + 1).join("/");
      let next = nodes.get(rel);
      if (!next) {
        next = { key: `dir:${rel}`, label: parts[i] ?? "", folders: [], files: [], fileCount: 0 };
        nodes.set(rel, next);
        node.folders.push(next);
      }
      next.fileCount++;
      node = next;
    }
    node.files.push(f);
  }
  const squash = (n: FolderNode): FolderNode => {
    let cur = n;
    while (cur.files.length === 0 && cur.folders.length === 1 && cur !== top) {
      const only = cur.folders[0] as FolderNode;
      cur = { ...only, label: `${cur.label}/${only.label}` };
    }
    return { ...cur, folders: cur.folders.map(squash) };
  };
  return { ...top, folders: top.folders.map(squash) };
}
