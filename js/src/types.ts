// JSON shapes of the dcmview HTTP API (SPEC §3). One place, so a contract change is one edit.

export interface WindowJson {
  center: number;
  width: number;
}

export interface FileSummary {
  index: number;
  path: string;
  label: string;
  patient_id: string;
  patient_name: string;
  study_date: string;
  study_description: string;
  study_instance_uid: string;
  series_instance_uid: string;
  sop_instance_uid: string;
  series_number: string | number | null;
  series_description: string;
  modality: string;
  instance_number: string | number | null;
  has_pixels: boolean;
  frame_count: number;
  rows: number | null;
  columns: number | null;
  transfer_syntax_uid: string;
  default_window: WindowJson | null;
  /** False when the pixels cannot be decoded here (unknown transfer syntax, unusable layout). */
  pixels_supported?: boolean;
  /** Burned In Annotation (0028,0301): "YES", "NO", or "" when the file does not say. */
  burned_in_annotation?: "YES" | "NO" | "";
  /** The display shutter's shapes ("rectangular", "circular", "polygonal", "bitmap"). */
  shutter_shapes?: string[];
}

export interface FilesResponse {
  files: FileSummary[];
  discovery: { path: string; disposition: string; reason: string }[];
  scanned: number;
  skipped: number;
  filtered: number;
  tunnelled: boolean;
  tunnel_host: string | null;
  server_start_ms: number;
  scan_complete: boolean;
}

/** `api/file/:i/info`; the layout fields are null when the pixel description is unusable. */
export interface FileInfo {
  frame_count: number;
  rows: number | null;
  columns: number | null;
  transfer_syntax: string;
  transfer_syntax_uid: string;
  has_pixels: boolean;
  default_window: WindowJson | null;
  photometric_interpretation: string | null;
  samples_per_pixel: number | null;
  bits_allocated: number | null;
  pixel_spacing: number[] | null;
}

export type TagValue =
  | { type: "string"; value: string }
  | { type: "number"; value: number }
  | { type: "numbers"; value: number[]; truncated?: boolean; total?: number }
  | { type: "sequence"; items: TagNode[][]; truncated?: boolean; total?: number }
  | { type: "binary"; length: number }
  | { type: "error"; message: string };

export interface TagNode {
  tag: string;
  vr: string;
  keyword: string;
  value: TagValue;
}

/** EMBED-style annotations of one file: boxes are [ymin, xmin, ymax, xmax], max edges exclusive. */
export interface AnnotationPayload {
  num_roi: number;
  roi_coords: number[][];
  roi_frames: number[][];
}

/** One image of a stack (`api/series`, SPEC §9). */
export interface StackFrameJson {
  virtual_index: number;
  file_index: number;
  frame_index: number;
  sop_instance_uid: string;
  instance_number: string | number | null;
  position_along_normal_mm: number | null;
}

/** What the viewer scrolls: single-frame files of one geometry, or one multi-frame file. */
export interface StackJson {
  id: string;
  kind: "ordinary" | "multiframe";
  rows: number;
  columns: number;
  frames: StackFrameJson[];
}

export interface SeriesJson {
  id: string;
  study_instance_uid: string;
  series_instance_uid: string;
  series_number: string | number | null;
  series_description: string;
  modality: string;
  frame_of_reference_uids: string[];
  stacks: StackJson[];
}

export interface SeriesResponse {
  series: SeriesJson[];
  scan_complete: boolean;
}
