// The view state shared with a host (the notebook widget's traitlets, through `SyncHost`): which
// file opens first, values set from Python applied to the viewer, and the viewer's own changes
// pushed back. Without a host, only the first file opens.

import type { AnnotationStore } from "../annotations";
import { changes, type SyncHost, sameSync, type ViewSync } from "../sync";
import type { FileSummary } from "../types";
import type { Viewer } from "../viewer";

export class HostSync {
  private files: readonly FileSummary[] = [];
  private pushed: ViewSync | null = null;
  // Nothing is pushed before the host's initial state is applied: opening the first file must
  // not overwrite values set from Python (or shown by another view of the same widget).
  private ready = false;
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly viewer: Viewer,
    private readonly host?: SyncHost,
    store?: AnnotationStore,
  ) {
    if (!host) return;
    this.stops.push(
      host.listen(
        (s) => this.apply(s),
        () => {
          // ROIs were set from Python: the shown file's first, then the other tabs'.
          const doc = viewer.active;
          if (doc) void store?.reload(doc.file.index);
          for (const d of viewer.docs) if (d !== doc) void store?.reload(d.file.index);
        },
      ),
      viewer.changes.subscribe(() => this.push()),
    );
  }

  /** A file list arrived: the first time, open the file the host asks for (else the first). */
  filesArrived(files: readonly FileSummary[]): void {
    this.files = files;
    if (!this.viewer.docs.length && files[0]) {
      const wanted = this.host?.initial() ?? {};
      const file = files.find((f) => f.index === wanted.file) ?? files[0];
      this.viewer.navigate({ kind: "open", file });
      this.apply(wanted);
    }
    this.ready = true;
  }

  stop(): void {
    for (const stop of this.stops) stop();
  }

  private current(): ViewSync | null {
    const doc = this.viewer.active;
    if (!doc) return null;
    const w = this.viewer.window();
    return {
      file: doc.file.index,
      frame: doc.frame,
      wc: w ? w.center : null,
      ww: w ? w.width : null,
      tool: this.viewer.tool,
    };
  }

  private push(): void {
    const now = this.current();
    if (!this.host || !this.ready || !now || sameSync(this.pushed, now)) return;
    this.pushed = now;
    this.host.push(now);
  }

  private apply(s: Partial<ViewSync>): void {
    const viewer = this.viewer;
    const todo = changes(this.current(), s);
    if (todo.file !== undefined) {
      const file = this.files.find((x) => x.index === todo.file);
      if (file) viewer.navigate({ kind: "open", file });
    }
    if (todo.frame !== undefined && viewer.active) {
      // `frame` names a frame of the shown file; in a stack that is some image position.
      const position = viewer.positionOf(viewer.active.file.index, todo.frame);
      viewer.navigate({ kind: "to", position });
    }
    if (typeof todo.wc === "number" && typeof todo.ww === "number") {
      viewer.setWindow({ center: todo.wc, width: todo.ww });
    }
    if (todo.tool !== undefined) viewer.setTool(todo.tool);
  }
}
