// The browser's "leave page?" warning while ROI or redaction edits are not saved yet (SPEC §5).

import type { AnnotationStore } from "../annotations";

/** Warn before unload while a store holds unsaved edits; returns the function that stops it. */
export function warnBeforeUnload(stores: readonly AnnotationStore[]): () => void {
  const onUnload = (e: BeforeUnloadEvent) => {
    if (!stores.some((s) => s.hasPending())) return;
    e.preventDefault();
    e.returnValue = "";
  };
  window.addEventListener("beforeunload", onUnload);
  return () => window.removeEventListener("beforeunload", onUnload);
}
