// Mounts the viewer in a root element over a Transport, for the server page and the notebook
// widget alike. It only assembles the parts, each in its own module: the viewer (viewer.ts), the
// chrome around it (app/chrome.ts), the host's view state (app/host-sync.ts), polling of the file
// list (app/polling.ts) and of the series once the scan is complete (app/series.ts), of the
// layers (app/layers.ts), ROI and redaction export (app/export.ts), shortcuts (app/shortcuts.ts),
// the unload warning (app/unload.ts) and the pointer (tools/pointer.ts).

import { AnnotationStore } from "./annotations";
import { Api } from "./api";
import { Chrome } from "./app/chrome";
import { copyRedactions, exportRois } from "./app/export";
import { HostSync } from "./app/host-sync";
import { LayersLoader } from "./app/layers";
import { FilesPoller } from "./app/polling";
import { SeriesLoader } from "./app/series";
import { bindShortcuts } from "./app/shortcuts";
import { warnBeforeUnload } from "./app/unload";
import { emptyMessage } from "./empty";
import { LayerSet } from "./layers/layer-set";
import type { SyncHost } from "./sync";
import { attachPointer } from "./tools/pointer";
import type { Transport } from "./transport/types";
import { showAccessRequired } from "./ui/access";
import { Viewer } from "./viewer";
import { Viewport } from "./viewport/viewport";

export interface AppOptions {
  transport: Transport;
  /** Where shortcuts listen: the whole page, or only the widget (so a notebook keeps its keys). */
  keyScope: "document" | "root";
  /** Was a token supplied (for the wording of the access page)? */
  hadToken: boolean;
  /** Force the Canvas 2D renderer (tests, broken GPUs): `?renderer=2d` on the page. */
  renderer?: "webgl2" | "2d";
  /** A host that mirrors the view state (the notebook widget's traitlets). */
  sync?: SyncHost;
}

/** Mount the viewer in `root`; returns the cleanup function. */
export function mountApp(root: HTMLElement, opts: AppOptions): () => void {
  root.classList.add("dcmv");
  root.replaceChildren();
  const api = new Api(opts.transport);
  // Asked before the viewport and the chrome are built (WebGL context, first layout: ~100 ms on
  // a software renderer), so that the server answers meanwhile.
  const masked = api.masked();
  const firstFiles = api.files();
  const store = new AnnotationStore(api);
  const redactions = new AnnotationStore(api, "redactions");
  const viewport = new Viewport(opts.renderer ?? "webgl2");
  const layers = new LayerSet(api);
  const viewer = new Viewer(api, store, redactions, viewport, root, layers);
  const flash = (text: string, ms?: number) => chrome.status.flash(text, ms);
  const chrome = new Chrome(root, viewer, store, api, opts.transport.description, {
    exportRois: () => void exportRois(api, store, flash),
    exportRedactions: () => void exportRois(api, redactions, flash),
    copyRedactions() {
      const file = viewer.active?.file.index;
      if (file !== undefined) void copyRedactions(api, redactions, file, flash);
    },
  });
  const hostSync = new HostSync(viewer, opts.sync, store);
  void masked.then((m) => chrome.status.setMasked(m)).catch(() => undefined);

  root.dataset.renderer = viewport.rendererKind;
  let paints = 0;
  viewport.onPaint = () => {
    root.dataset.paints = String(++paints);
  };
  const detachPointer = attachPointer(viewport.el, viewer, {
    activeTool: () => viewer.tool,
    reset: () => viewer.reset(),
    stepFrames: (delta) => viewer.navigate({ kind: "step", delta }),
    hover: (p) => viewer.hover(p),
  });
  if (opts.keyScope === "root" && root.tabIndex < 0) root.tabIndex = 0;
  const unbindKeys = bindShortcuts(viewer, opts.keyScope === "root" ? root : null);
  const stopWarning = warnBeforeUnload([store, redactions]);

  const series = new SeriesLoader(api, (answer) => viewer.setSeries(answer));
  const watch = opts.sync?.watchLayers?.bind(opts.sync) ?? null;
  const layerList = new LayersLoader(api, layers, watch);
  const poller = new FilesPoller(api, {
    files(r) {
      viewer.setFiles(r.files);
      // The first file's info and boxes are asked for before the explorer is laid out.
      hostSync.filesArrived(r.files);
      chrome.setFiles(r);
      if (r.scan_complete) {
        series.load();
        layerList.start();
      }
      const empty = emptyMessage(r);
      if (empty) {
        viewport.showMessage(empty.title, empty.detail);
        if (r.scan_complete) root.dataset.state = "empty";
      } else if (!viewer.docs.length) viewport.showMessage(null);
    },
    denied() {
      cleanup();
      showAccessRequired(root, opts.hadToken);
    },
    unreachable: (message) => chrome.status.setScanError(message),
  });

  let stopped = false;
  function cleanup(): void {
    if (stopped) return;
    stopped = true;
    poller.stop();
    series.stop();
    layerList.stop();
    viewer.playback.stop();
    hostSync.stop();
    chrome.dispose();
    detachPointer();
    unbindKeys();
    stopWarning();
    viewport.dispose();
  }

  viewport.showMessage("Loading…");
  void poller.poll(firstFiles);
  return cleanup;
}
