import { describe, expect, it } from "vitest";
import { emptyMessage } from "../src/empty";
import type { FilesResponse } from "../src/types";
import { summary } from "./fixtures";

function files(over: Partial<FilesResponse>): FilesResponse {
  return {
    files: [],
    discovery: [],
    scanned: 0,
    skipped: 0,
    filtered: 0,
    tunnelled: false,
    tunnel_host: null,
    server_start_ms: 0,
    scan_complete: true,
    ...over,
  };
}

describe("the empty viewport", () => {
  it("says nothing while there are files", () => {
    expect(emptyMessage(files({ files: [summary({})] }))).toBeNull();
  });

  it("says an empty folder is empty and how to start on one with DICOM files", () => {
    const m = emptyMessage(files({}));
    expect(m?.title).toBe("No DICOM files here");
    expect(m?.detail).toContain("holds no files");
    expect(m?.detail).toContain("dcmview /path/to/study");
  });

  it("says how many files were looked at and points to the skipped ones", () => {
    const m = emptyMessage(files({ scanned: 3, skipped: 2 }));
    expect(m?.detail).toContain("looked at 3 files");
    expect(m?.detail).toContain("2 skipped");
  });

  it("says the scan is still running", () => {
    expect(emptyMessage(files({ scan_complete: false, scanned: 5 }))?.title).toMatch(/Looking/);
  });
});
