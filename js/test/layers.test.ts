import { describe, expect, it, vi } from "vitest";
import type { Api } from "../src/api";
import { LayerSet } from "../src/layers/layer-set";
import {
  colormapTable,
  type LayerJson,
  labelTable,
  lutSide,
  parseLayerFrame,
  readoutLine,
  rgb,
} from "../src/layers/model";

const seg: LayerJson = {
  id: "layer-0",
  name: "seg.dcm",
  kind: "labels",
  source: "seg",
  stack_id: "stack-0",
  labels: [
    { value: 1, name: "Liver", color: "#ff0000" },
    { value: 3, name: "Lesion", color: "#00ff80" },
  ],
  value_range: [0, 3],
  units: "",
  opacity: 0.5,
  visible: true,
};
const dose: LayerJson = {
  ...seg,
  id: "layer-1",
  name: "dose",
  kind: "heatmap",
  source: "rtdose",
  labels: [],
  value_range: [0, 60],
  units: "Gy",
  colormap: "hot",
};

describe("layer frames", () => {
  it("reads uint16 label maps and float32 maps with their sizes", () => {
    const labels = parseLayerFrame({
      status: 200,
      headers: { "x-layer-rows": "1", "x-layer-columns": "3", "x-layer-dtype": "uint16" },
      body: new Uint16Array([0, 300, 2]).buffer,
    });
    expect(labels?.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(labels!.data)).toEqual([0, 300, 2]);
    const floats = parseLayerFrame({
      status: 200,
      headers: { "x-layer-rows": "1", "x-layer-columns": "2", "x-layer-dtype": "float32" },
      body: new Float32Array([1.5, Number.NaN]).buffer,
    });
    expect(floats?.data[0]).toBe(1.5);
  });

  it("is null for 204 (nothing of the layer on this image)", () => {
    expect(parseLayerFrame({ status: 204, headers: {}, body: new ArrayBuffer(0) })).toBeNull();
  });

  it("refuses a body shorter than its size says", () => {
    const res = {
      status: 200,
      headers: { "x-layer-rows": "2", "x-layer-columns": "2", "x-layer-dtype": "uint8" },
      body: new Uint8Array(3).buffer,
    };
    expect(() => parseLayerFrame(res)).toThrow(/cut short/);
  });
});

describe("colours", () => {
  it("puts each label's colour at its value, transparent elsewhere", () => {
    const t = labelTable(seg);
    expect(lutSide(seg)).toBe(16);
    expect(Array.from(t.slice(4, 8))).toEqual([255, 0, 0, 255]);
    expect(Array.from(t.slice(12, 16))).toEqual([0, 255, 128, 255]);
    expect(t[0 * 4 + 3]).toBe(0);
    expect(t[2 * 4 + 3]).toBe(0);
  });

  it("uses a 256² table for uint16 labels", () => {
    const big = { ...seg, labels: [{ value: 1000, name: "x", color: "#010203" }] };
    expect(lutSide(big)).toBe(256);
    expect(Array.from(labelTable(big).slice(4000, 4004))).toEqual([1, 2, 3, 255]);
  });

  it("interpolates colour maps from black to white for hot", () => {
    const hot = colormapTable("hot");
    expect(Array.from(hot.slice(0, 4))).toEqual([0, 0, 0, 255]);
    expect(Array.from(hot.slice(255 * 4, 256 * 4))).toEqual([255, 255, 255, 255]);
    expect(rgb("#0a0b0c")).toEqual([10, 11, 12]);
  });
});

describe("value under the cursor", () => {
  const frame = {
    rows: 2,
    columns: 2,
    dtype: "uint8" as const,
    data: new Uint8Array([0, 1, 3, 7]),
  };

  it("names the label, or the value of an unnamed one", () => {
    expect(readoutLine(seg, frame, 0, 1)).toBe("seg.dcm: Liver");
    expect(readoutLine(seg, frame, 1, 0)).toBe("seg.dcm: Lesion");
    expect(readoutLine(seg, frame, 1, 1)).toBe("seg.dcm: label 7");
    expect(readoutLine(seg, frame, 0, 0)).toBeNull();
    expect(readoutLine(seg, frame, 5, 0)).toBeNull();
  });

  it("gives a dose with its units", () => {
    const f = {
      rows: 1,
      columns: 2,
      dtype: "float32" as const,
      data: new Float32Array([2.3456, NaN]),
    };
    expect(readoutLine(dose, f, 0, 0)).toBe("dose: 2.346 Gy");
    expect(readoutLine(dose, f, 0, 1)).toBeNull();
  });
});

describe("LayerSet", () => {
  function fakeApi(frames: Record<string, Uint8Array | null>) {
    const calls: string[] = [];
    const api = {
      layerFrame: vi.fn(async (id: string, position: number) => {
        calls.push(`${id}/${position}`);
        const data = frames[`${id}/${position}`];
        return data ? { rows: 1, columns: data.length, dtype: "uint8" as const, data } : null;
      }),
    } as unknown as Api;
    return { api, calls };
  }

  it("draws only the slice of the image asked for, once it has arrived", async () => {
    const { api, calls } = fakeApi({ "layer-0/2": new Uint8Array([1]) });
    const set = new LayerSet(api);
    set.setList([seg, { ...seg, id: "layer-9", stack_id: "stack-1" }]);
    expect(set.draws("stack-0", 2)).toEqual([]); // asked, not there yet
    await vi.waitFor(() => expect(set.draws("stack-0", 2).length).toBe(1));
    expect(set.draws("stack-0", 3)).toEqual([]);
    expect(calls).toContain("layer-0/2");
    expect(calls.some((c) => c.startsWith("layer-9"))).toBe(false);
  });

  it("keeps a local style until Python changes the served one", () => {
    const set = new LayerSet(fakeApi({}).api);
    set.setList([seg]);
    set.setStyle("layer-0", { opacity: 0.9, outline: true });
    set.setList([seg]);
    expect(set.style("layer-0")).toMatchObject({ opacity: 0.9, outline: true });
    set.setList([{ ...seg, opacity: 0.2 }]);
    expect(set.style("layer-0")).toMatchObject({ opacity: 0.2, outline: true });
  });

  it("does not ask for hidden layers", () => {
    const { api, calls } = fakeApi({});
    const set = new LayerSet(api);
    set.setList([{ ...seg, visible: false }]);
    set.draws("stack-0", 0);
    set.prefetch("stack-0", [1, 2]);
    expect(calls).toEqual([]);
  });
});

describe("LayerSet coverage", () => {
  it("asks only for the images a layer has a slice on", async () => {
    const calls: string[] = [];
    const api = {
      layerFrame: vi.fn(async (id: string, p: number) => {
        calls.push(`${id}/${p}`);
        return null;
      }),
    } as unknown as Api;
    const set = new LayerSet(api);
    set.setList([{ ...seg, frames: [2, 3] }]);
    set.prefetch("stack-0", [0, 1, 2, 3, 4]);
    set.draws("stack-0", 1);
    await vi.waitFor(() => expect(calls.length).toBe(2));
    expect(calls.sort()).toEqual(["layer-0/2", "layer-0/3"]);
  });
});
