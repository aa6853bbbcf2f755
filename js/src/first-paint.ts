// Reduced-resolution first paint (issue 14): a large JPEG 2000 or HTJ2K frame is first shown
// from a picture the server decodes at 1/2^n of each side (tens of milliseconds instead of
// seconds), then from the full frame.

/** What the file list (or the file's info) says of a frame's size and codec. */
export interface FrameFacts {
  rows: number | null;
  columns: number | null;
  transfer_syntax_uid: string;
  photometric_interpretation?: string | null;
}

/** Transfer syntaxes whose frames the server can decode at reduced resolution. */
const REDUCIBLE = new Set([
  "1.2.840.10008.1.2.4.90",
  "1.2.840.10008.1.2.4.91",
  "1.2.840.10008.1.2.4.201",
  "1.2.840.10008.1.2.4.202",
  "1.2.840.10008.1.2.4.203",
]);
const MAX_LEVELS = 8;

/**
 * Levels of reduction for a file's first paint in a view of `view` device pixels: the most that
 * leave the picture at least half the size the fitted frame is shown at; 0 when the frame fits
 * the view at full size or its codec cannot reduce.
 */
export function firstPaintLevels(
  info: FrameFacts,
  view: { width: number; height: number },
): number {
  const rows = info.rows ?? 0;
  const columns = info.columns ?? 0;
  if (!REDUCIBLE.has(info.transfer_syntax_uid) || rows <= 0 || columns <= 0) return 0;
  if (info.photometric_interpretation?.toUpperCase() === "PALETTE COLOR") return 0;
  const fit = Math.min(view.width / columns, view.height / rows);
  if (!(fit < 1)) return 0;
  let n = 0;
  while (
    n < MAX_LEVELS &&
    Math.ceil(rows / 2 ** (n + 1)) >= (rows * fit) / 2 &&
    Math.ceil(columns / 2 ** (n + 1)) >= (columns * fit) / 2
  ) {
    n += 1;
  }
  return n;
}
