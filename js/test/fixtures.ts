import type { FileSummary } from "../src/types";

/** A FileSummary with sensible defaults. */
export function summary(over: Partial<FileSummary>): FileSummary {
  return {
    index: 0,
    path: "/data/a.dcm",
    label: "P1 · CT · 20240101",
    patient_id: "P1",
    patient_name: "",
    study_date: "20240101",
    study_description: "Chest",
    study_instance_uid: "1.2.1",
    series_instance_uid: "1.2.1.1",
    sop_instance_uid: "1.2.1.1.1",
    series_number: 1,
    series_description: "Axial",
    modality: "CT",
    instance_number: 1,
    has_pixels: true,
    frame_count: 1,
    rows: 512,
    columns: 512,
    transfer_syntax_uid: "1.2.840.10008.1.2.1",
    default_window: null,
    ...over,
  };
}
