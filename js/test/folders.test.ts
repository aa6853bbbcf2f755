import { describe, expect, it } from "vitest";
import { commonFolder, folderKeys, folderTree } from "../src/files";
import type { FileSummary } from "../src/types";

const file = (index: number, path: string) => ({ index, path }) as FileSummary;

describe("folder tree", () => {
  const files = [
    file(0, "/data/study/ct/a.dcm"),
    file(1, "/data/study/ct/b.dcm"),
    file(2, "/data/study/mr/deep/x/c.dcm"),
    file(3, "/data/study/top.dcm"),
  ];

  it("starts below the common folder", () => {
    expect(commonFolder(files)).toEqual(["", "data", "study"]);
    const tree = folderTree(files);
    expect(tree.label).toBe("/data/study");
    expect(tree.fileCount).toBe(4);
    expect(tree.files.map((f) => f.index)).toEqual([3]);
    expect(tree.folders.map((f) => f.label)).toEqual(["ct", "mr/deep/x"]);
    expect(tree.folders[0]?.files.map((f) => f.index)).toEqual([0, 1]);
    expect(tree.folders[1]?.fileCount).toBe(1);
  });

  it("gives the keys of the folders holding a file", () => {
    const root = commonFolder(files);
    expect(folderKeys(files[2] as FileSummary, root)).toEqual([
      "dir:mr",
      "dir:mr/deep",
      "dir:mr/deep/x",
    ]);
    const squashed = folderTree(files).folders[1];
    expect(folderKeys(files[2] as FileSummary, root)).toContain(squashed?.key);
  });

  it("handles one file", () => {
    const tree = folderTree([file(0, "/x/y.dcm")]);
    expect(tree.label).toBe("/x");
    expect(tree.files).toHaveLength(1);
  });
});
