// Where the window of the "Default" preset came from, so the overlay names it truly: the file's
// own Window Center/Width, the server's percentile fallback, or the frame's full range.

/** `dicom`: the file's window; `auto`: the server's 1st–99th percentile window (SPEC §4);
 *  `voi_lut`: the file has only a VOI LUT, which the browser does not apply (full range shown);
 *  `full`: the frame's min..max. */
export type WindowSource = "dicom" | "auto" | "voi_lut" | "full";

/** What the display PNG's headers say about the server's own choice of window. */
export interface ServerWindowChoice {
  /** `X-Frame-Window-Applied`: `linear`, `voi_lut` or `full_dynamic` (null when absent). */
  applied: string | null;
  /** `X-Frame-Window-Center`/`-Width`, for a linear window. */
  hasWindow: boolean;
}

/**
 * The source of a file's first window. `fileDefault`: the file (or its raw frame) has a Window
 * Center/Width. Otherwise the display PNG of a file without one tells: a linear window there is
 * the percentile fallback.
 */
export function windowSource(
  fileDefault: boolean,
  server: ServerWindowChoice | null,
): WindowSource {
  if (fileDefault) return "dicom";
  if (server?.applied === "voi_lut") return "voi_lut";
  if (server?.applied === "linear" && server.hasWindow) return "auto";
  return "full";
}

/** The overlay's name for the Default preset's window, by its source. */
export function windowSourceLabel(source: WindowSource): string {
  switch (source) {
    case "dicom":
      return "Default (DICOM)";
    case "auto":
      return "Auto (1st–99th percentile)";
    case "voi_lut":
      return "Full dynamic (VOI LUT not applied)";
    case "full":
      return "Full dynamic";
  }
}
