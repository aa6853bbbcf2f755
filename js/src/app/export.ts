// Export ROIs: save pending edits first, then download the server's CSV of every ROI.

import type { AnnotationStore } from "../annotations";
import type { Api } from "../api";
import { downloadBytes } from "../download";

/** Download `dcmview-annotations.csv`; `flash` tells the user how it went. */
export async function exportRois(
  api: Api,
  store: AnnotationStore,
  flash: (text: string, ms?: number) => void,
): Promise<void> {
  await store.flush();
  if (store.hasPending()) flash("Some ROIs are not saved; the export holds the server's copy.");
  try {
    const csv = await api.exportCsv();
    downloadBytes(csv.body, csv.filename, "text/csv");
    flash(`Downloaded ${csv.filename}`);
  } catch (e) {
    flash(`Export failed: ${e instanceof Error ? e.message : String(e)}`, 8000);
  }
}
