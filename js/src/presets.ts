// The window presets of SPEC §6: the one table read by the toolbar, the viewer and the tests.

export type PresetId =
  | "default"
  | "full"
  | "abdomen"
  | "angio"
  | "bone"
  | "brain"
  | "chest"
  | "lung";

export interface Preset {
  id: PresetId;
  label: string;
  /** Linear window in modality units; absent for the data-driven presets. */
  center?: number;
  width?: number;
}

export const PRESETS: readonly Preset[] = [
  { id: "default", label: "Default (DICOM)" },
  { id: "full", label: "Full dynamic" },
  { id: "abdomen", label: "CT Abdomen", center: 60, width: 400 },
  { id: "angio", label: "Angio", center: 300, width: 600 },
  { id: "bone", label: "Bone", center: 300, width: 1500 },
  { id: "brain", label: "Brain", center: 40, width: 80 },
  { id: "chest", label: "Chest", center: -600, width: 1500 },
  { id: "lung", label: "Lung", center: -600, width: 1600 },
];

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** Menu text, e.g. "CT Abdomen 60/400". */
export function presetLabel(p: Preset): string {
  return p.center === undefined ? p.label : `${p.label} ${p.center}/${p.width}`;
}
