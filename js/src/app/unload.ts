// The browser's "leave page?" warning while ROI edits are not saved yet (SPEC §5).

import type { AnnotationStore } from "../annotations";

/** Warn before unload while `store` holds unsaved edits; returns the function that stops it. */
export function warnBeforeUnload(store: AnnotationStore): () => void {
  const onUnload = (e: BeforeUnloadEvent) => {
    if (!store.hasPending()) return;
    e.preventDefault();
    e.returnValue = "";
  };
  window.addEventListener("beforeunload", onUnload);
  return () => window.removeEventListener("beforeunload", onUnload);
}
