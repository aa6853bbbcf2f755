import { describe, expect, it } from "vitest";
import { fileRowIndex, folderRows, type IsOpen, studyRows, type TreeRow } from "../src/tree-rows";
import { covers, rowWindow } from "../src/ui/virtual-list";
import { summary } from "./fixtures";

const files = [
  summary({ index: 0, path: "/d/ct/1.dcm" }),
  summary({ index: 1, path: "/d/ct/2.dcm", instance_number: 2 }),
  summary({ index: 2, path: "/d/ct/cor/3.dcm", series_instance_uid: "1.2.1.2", series_number: 2 }),
  summary({ index: 3, path: "/d/x.dcm", patient_id: "P2", study_instance_uid: "9" }),
];

const allOpen: IsOpen = () => true;
const shape = (rows: TreeRow[]) =>
  rows.map((r) => `${r.depth}:${r.kind === "file" ? `file ${r.file.index}` : r.kind}`);

describe("explorer rows", () => {
  it("flattens patient -> study -> series -> files, depth by depth", () => {
    expect(shape(studyRows(files, allOpen))).toEqual([
      "0:patient",
      "1:study",
      "2:series",
      "3:file 0",
      "3:file 1",
      "2:series",
      "3:file 2",
      "0:patient",
      "1:study",
      "2:series",
      "3:file 3",
    ]);
    const first = studyRows(files, allOpen)[0];
    expect(first).toMatchObject({ kind: "patient", label: "P1", count: 3, open: true });
  });

  it("leaves out what a folded group holds", () => {
    const rows = studyRows(files, (_key, kind) => kind !== "series");
    expect(shape(rows)).toEqual([
      "0:patient",
      "1:study",
      "2:series",
      "2:series",
      "0:patient",
      "1:study",
      "2:series",
    ]);
    expect(rows.at(-1)).toMatchObject({ kind: "series", count: 1, open: false });
    expect(fileRowIndex(rows, 0)).toBe(-1);
    expect(fileRowIndex(studyRows(files, allOpen), 2)).toBe(6);
  });

  it("lists folders below the common folder, then the files beside them", () => {
    const rows = folderRows(files, allOpen);
    expect(shape(rows)).toEqual([
      "0:root",
      "0:folder",
      "1:folder",
      "2:file 2",
      "1:file 0",
      "1:file 1",
      "0:file 3",
    ]);
    expect(rows[0]).toMatchObject({ label: "/d" });
    expect(rows[1]).toMatchObject({ label: "ct", count: 3 });
    expect(shape(folderRows(files, () => false))).toEqual(["0:root", "0:folder", "0:file 3"]);
    expect(folderRows([], allOpen)).toEqual([]);
  });
});

describe("virtual list window", () => {
  it("keeps the visible rows and the overscan on each side", () => {
    // 10,000 rows of 22 px, 440 px tall (20 rows), scrolled to row 500.
    expect(rowWindow(500 * 22, 440, 22, 10_000, 60)).toEqual({ first: 440, end: 580 });
    expect(rowWindow(0, 440, 22, 10_000, 60)).toEqual({ first: 0, end: 80 });
    expect(rowWindow(9_980 * 22, 440, 22, 10_000, 60)).toEqual({ first: 9_920, end: 10_000 });
    expect(rowWindow(0, 440, 22, 12, 60)).toEqual({ first: 0, end: 12 });
  });

  it("assumes some rows while the list is hidden (no height yet)", () => {
    expect(rowWindow(0, 0, 22, 10_000, 60, 40)).toEqual({ first: 0, end: 100 });
  });

  it("redraws only when the visible rows come near the window's edge", () => {
    const shown = { first: 440, end: 580 };
    expect(covers(shown, { first: 500, end: 520 }, 15, 10_000)).toBe(true);
    expect(covers(shown, { first: 450, end: 470 }, 15, 10_000)).toBe(false);
    expect(covers(shown, { first: 600, end: 620 }, 15, 10_000)).toBe(false);
    expect(covers({ first: 0, end: 80 }, { first: 0, end: 20 }, 15, 10_000)).toBe(true);
    expect(covers({ first: 0, end: 12 }, { first: 0, end: 12 }, 15, 12)).toBe(true);
  });
});
