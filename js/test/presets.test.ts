import { describe, expect, it } from "vitest";
import { PRESETS, presetLabel } from "../src/presets";

describe("window presets", () => {
  it("lists the SPEC §6 presets in order with their values", () => {
    expect(PRESETS.map(presetLabel)).toEqual([
      "Default (DICOM)",
      "Full dynamic",
      "CT Abdomen 60/400",
      "Angio 300/600",
      "Bone 300/1500",
      "Brain 40/80",
      "Chest -600/1500",
      "Lung -600/1600",
    ]);
  });
});
