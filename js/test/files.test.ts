import { describe, expect, it } from "vitest";
import { fileLabel, fileMeta, filterFiles, formatDate, groupFiles } from "../src/files";
import { summary } from "./fixtures";

const files = [
  summary({ index: 0, path: "/d/1.dcm" }),
  summary({ index: 1, path: "/d/2.dcm", instance_number: 2 }),
  summary({
    index: 2,
    path: "/d/3.dcm",
    series_instance_uid: "1.2.1.2",
    series_number: 2,
    series_description: "Coronal",
  }),
  summary({
    index: 3,
    path: "/e/x.dcm",
    patient_id: "P2",
    study_instance_uid: "9",
    modality: "MR",
    frame_count: 30,
  }),
];

describe("file tree grouping", () => {
  it("groups patient -> study -> series in server order", () => {
    const tree = groupFiles(files);
    expect(tree.map((p) => p.label)).toEqual(["P1", "P2"]);
    expect(tree[0]!.fileCount).toBe(3);
    expect(tree[0]!.studies).toHaveLength(1);
    expect(tree[0]!.studies[0]!.series.map((s) => s.files.map((f) => f.index))).toEqual([
      [0, 1],
      [2],
    ]);
    expect(tree[0]!.studies[0]!.label).toBe("2024-01-01 · Chest");
    expect(tree[0]!.studies[0]!.series[1]!.label).toBe("CT #2 Coronal");
  });

  it("names a masked patient once (its ID and name are the same pseudonym)", () => {
    const masked = { patient_id: "Patient 1", patient_name: "Patient 1" };
    expect(groupFiles([summary(masked)])[0]!.label).toBe("Patient 1");
    const real = { patient_id: "P9", patient_name: "DOE^J" };
    expect(groupFiles([summary(real)])[0]!.label).toBe("P9 · DOE^J");
  });

  it("keeps files of unknown patients together", () => {
    const tree = groupFiles([summary({ patient_id: "" }), summary({ index: 1, patient_id: "" })]);
    expect(tree).toHaveLength(1);
    expect(tree[0]!.label).toBe("(unknown)");
  });

  it("labels a file by instance number and name, with its frame count", () => {
    expect(fileLabel(files[1]!)).toBe("2 · 2.dcm");
    expect(fileLabel(files[3]!)).toBe("1 · x.dcm");
    expect(formatDate("2024")).toBe("2024");
  });
});

describe("file filter", () => {
  it("matches any word case-insensitively, all words required", () => {
    expect(filterFiles(files, "mr").map((f) => f.index)).toEqual([3]);
    expect(filterFiles(files, "coronal P1").map((f) => f.index)).toEqual([2]);
    expect(filterFiles(files, "/d/").map((f) => f.index)).toEqual([0, 1, 2]);
    expect(filterFiles(files, "  ")).toHaveLength(4);
  });

  it("keeps every one of thousands of files in its series, in server order", () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      summary({ index: i, path: `/d/${i}.dcm`, series_instance_uid: `s${i % 50}` }),
    );
    const series = groupFiles(filterFiles(many, "dcm"))[0]!.studies[0]!.series;
    expect(series.map((s) => s.files.map((f) => f.index))).toEqual(
      Array.from({ length: 50 }, (_, s) => Array.from({ length: 100 }, (_, j) => s + 50 * j)),
    );
  });
});

describe("explorer row facts", () => {
  it("give the matrix and the frame count", () => {
    const m = fileMeta(summary({ columns: 640, rows: 480, frame_count: 30 }));
    expect(m).toEqual({ matrix: "640×480", frames: "30 fr", badge: null, burnedIn: false });
    expect(fileMeta(summary({ frame_count: 1 })).frames).toBe("");
  });

  it("badge a file without pixels, and pixels the server cannot decode", () => {
    expect(fileMeta(summary({ has_pixels: false, rows: null, columns: null })).badge).toBe(
      "no pixels",
    );
    expect(fileMeta(summary({ pixels_supported: false })).badge).toBe("unsupported");
  });

  it("flag burned-in annotation only when the file says YES", () => {
    expect(fileMeta(summary({ burned_in_annotation: "YES" })).burnedIn).toBe(true);
    expect(fileMeta(summary({ burned_in_annotation: "NO" })).burnedIn).toBe(false);
    expect(fileMeta(summary({ burned_in_annotation: "" })).burnedIn).toBe(false);
    expect(fileMeta(summary({})).burnedIn).toBe(false);
  });
});
