import { describe, expect, it } from "vitest";
import { copyText, formatBytes, valueText, visibleRows } from "../src/tags";
import type { TagNode } from "../src/types";

const nodes: TagNode[] = [
  { tag: "(0008,0060)", vr: "CS", keyword: "Modality", value: { type: "string", value: "CT" } },
  {
    tag: "(0010,0020)",
    vr: "LO",
    keyword: "PatientID",
    value: { type: "string", value: "ABC123" },
  },
  {
    tag: "(0008,1140)",
    vr: "SQ",
    keyword: "ReferencedImageSequence",
    value: {
      type: "sequence",
      items: [
        [
          {
            tag: "(0008,1150)",
            vr: "UI",
            keyword: "ReferencedSOPClassUID",
            value: { type: "string", value: "1.2.3" },
          },
        ],
        [
          {
            tag: "(0008,1155)",
            vr: "UI",
            keyword: "ReferencedSOPInstanceUID",
            value: { type: "string", value: "9.8.7" },
          },
        ],
      ],
    },
  },
  { tag: "(7FE0,0010)", vr: "OW", keyword: "PixelData", value: { type: "binary", length: 524288 } },
];

describe("tag rows", () => {
  it("shows top-level tags with sequences folded", () => {
    const rows = visibleRows(nodes, new Set(), "");
    expect(rows.map((r) => r.node?.keyword)).toEqual([
      "Modality",
      "PatientID",
      "ReferencedImageSequence",
      "PixelData",
    ]);
    expect(rows[2]!.expandable).toBe(true);
    expect(rows[2]!.expanded).toBe(false);
  });

  it("expands a sequence into items and nested tags", () => {
    const rows = visibleRows(nodes, new Set(["2"]), "");
    expect(rows.map((r) => r.itemLabel ?? r.node?.keyword)).toEqual([
      "Modality",
      "PatientID",
      "ReferencedImageSequence",
      "Item 1",
      "ReferencedSOPClassUID",
      "Item 2",
      "ReferencedSOPInstanceUID",
      "PixelData",
    ]);
    expect(rows[4]!.depth).toBe(2);
  });

  it("filters by keyword, tag number or value", () => {
    expect(visibleRows(nodes, new Set(), "patientid").map((r) => r.node?.keyword)).toEqual([
      "PatientID",
    ]);
    expect(visibleRows(nodes, new Set(), "00100020").map((r) => r.node?.keyword)).toEqual([
      "PatientID",
    ]);
    expect(visibleRows(nodes, new Set(), "abc1").map((r) => r.node?.keyword)).toEqual([
      "PatientID",
    ]);
  });

  it("opens the ancestors of a nested match", () => {
    const rows = visibleRows(nodes, new Set(), "9.8.7");
    expect(rows.map((r) => r.itemLabel ?? r.node?.keyword)).toEqual([
      "ReferencedImageSequence",
      "Item 2",
      "ReferencedSOPInstanceUID",
    ]);
  });
});

describe("tag values", () => {
  it("shows binary lengths, truncated numbers and sequence sizes", () => {
    expect(valueText({ type: "binary", length: 524288 })).toBe(
      "<binary, 512.0 KiB (524288 bytes)>",
    );
    expect(valueText({ type: "numbers", value: [1, 2], truncated: true, total: 500 })).toBe(
      "1\\2 … (500 values)",
    );
    expect(valueText(nodes[2]!.value)).toBe("2 items");
    expect(formatBytes(10)).toBe("10 bytes");
  });

  it("copies tag, keyword and value", () => {
    expect(copyText(nodes[1]!)).toBe("(0010,0020) PatientID: ABC123");
  });
});
