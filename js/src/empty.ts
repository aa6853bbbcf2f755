// What the viewport says when there is nothing to show: what happened and what to do (issue 13),
// pure so the wording is tested without a browser.

import type { FilesResponse } from "./types";

export interface Message {
  title: string;
  detail: string;
}

/**
 * The message for a file list without a file to show: null while files exist. While the scan
 * runs it says so; once complete, how much was looked at and how to point dcmview elsewhere.
 */
export function emptyMessage(r: FilesResponse): Message | null {
  if (r.files.length) return null;
  if (!r.scan_complete) {
    return { title: "Looking for DICOM files…", detail: `${r.scanned} scanned so far.` };
  }
  const n = r.scanned;
  const looked =
    n === 0
      ? "The folder given to dcmview holds no files."
      : `dcmview looked at ${n} file${n === 1 ? "" : "s"} and found no DICOM image among them` +
        (r.skipped ? ` (${r.skipped} skipped: point at "Scan complete" below to see why).` : ".");
  return {
    title: "No DICOM files here",
    detail: `${looked} Start dcmview on a folder or files that hold DICOM images, e.g. \`dcmview /path/to/study\` or \`dcmview.Viewer(["/path/to/study"])\`.`,
  };
}
