// Export ROIs (or redaction boxes): save pending edits first, then download the server's CSV of
// every box of that store.

import type { AnnotationStore } from "../annotations";
import type { Api } from "../api";
import { downloadBytes } from "../download";

/** Download `dcmview-annotations.csv` (or `dcmview-redactions.csv` for the redaction store);
 * `flash` tells the user how it went. */
export async function exportRois(
  api: Api,
  store: AnnotationStore,
  flash: (text: string, ms?: number) => void,
): Promise<void> {
  await store.flush();
  const what = store.kind === "redactions" ? "redaction boxes" : "ROIs";
  if (store.hasPending()) flash(`Some ${what} are not saved; the export holds the server's copy.`);
  try {
    const csv = await api.exportCsv(store.kind);
    downloadBytes(csv.body, csv.filename, "text/csv");
    flash(`Downloaded ${csv.filename}`);
  } catch (e) {
    flash(`Export failed: ${e instanceof Error ? e.message : String(e)}`, 8000);
  }
}

/** Give every file of the shown file's stack its redaction boxes (saved first). */
export async function copyRedactions(
  api: Api,
  store: AnnotationStore,
  file: number,
  flash: (text: string, ms?: number) => void,
): Promise<void> {
  await store.flush();
  try {
    const files = await api.copyRedactionsToSeries(file);
    await Promise.all(files.map((f) => store.reload(f)));
    flash(`Redaction boxes copied to ${files.length} file${files.length === 1 ? "" : "s"}`);
  } catch (e) {
    flash(`Copy failed: ${e instanceof Error ? e.message : String(e)}`, 8000);
  }
}
