// Assembles the viewer UI in a root element over a Transport: toolbar, file explorer, tabs,
// viewport, frame bar, tag browser and status bar, plus shortcuts, polling and unload warnings.
// The same function serves the server page and the notebook widget.

import { AnnotationStore } from "./annotations";
import { Api, ApiError } from "./api";
import { frameCount } from "./doc";
import { downloadBytes } from "./download";
import { actionFor } from "./keys";
import { Playback } from "./playback";
import { changes, type SyncHost, sameSync, type ViewSync } from "./sync";
import { attachPointer } from "./tools/pointer";
import type { Transport } from "./transport/types";
import type { FileSummary, FilesResponse } from "./types";
import { showAccessRequired } from "./ui/access";
import { h } from "./ui/dom";
import { FileTree } from "./ui/file-tree";
import { FrameBar } from "./ui/frame-bar";
import { StatusBar } from "./ui/status-bar";
import { Tabs } from "./ui/tabs";
import { TagsPanel } from "./ui/tags-panel";
import { Toolbar } from "./ui/toolbar";
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

const POLL_MS = 700;
/** Below these root widths (CSS px) the tags / files panes start folded. */
const NARROW_TAGS = 1000;
const NARROW_FILES = 640;

/** Mount the viewer in `root`; returns the cleanup function. */
export function mountApp(root: HTMLElement, opts: AppOptions): () => void {
  root.classList.add("dcmv");
  root.replaceChildren();
  const api = new Api(opts.transport);
  const store = new AnnotationStore(api);
  const viewport = new Viewport(opts.renderer ?? "webgl2");
  const viewer = new Viewer(api, store, viewport, root);
  const panes = { files: true, tags: true };
  let stopped = false;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;

  const playback = new Playback({
    file: () => viewer.active?.file.index ?? null,
    frame: () => viewer.frame(),
    frameCount: () => viewer.frameCount(),
    ready: (file, frame) => viewer.cache.has(file, frame),
    show: (frame) => viewer.showFrame(frame, false),
    prefetch: (file, frames) => viewer.cache.prefetch(file, frames),
    changed: () => refresh(),
  });

  const status = new StatusBar(opts.transport.description, () => store.retry());
  const tags = new TagsPanel(
    api,
    () => togglePane("tags"),
    (t) => status.flash(t),
  );
  const tree = new FileTree(
    (f) => {
      playback.stop();
      viewer.open(f);
    },
    () => togglePane("files"),
  );
  const tabs = new Tabs(
    (d) => {
      playback.stop();
      viewer.activate(d);
    },
    (d) => {
      playback.stop();
      viewer.close(d);
    },
  );
  const frameBar = new FrameBar({
    step: (d) => {
      playback.stop();
      viewer.step(d);
    },
    toggleCine: () => playback.toggle(),
    seek: (f) => viewer.showFrame(f),
    fps: (f) => playback.setFps(f),
    mode: (m) => playback.setMode(m),
  });

  async function exportRois(): Promise<void> {
    await store.flush();
    if (store.hasPending())
      status.flash("Some ROIs are not saved; the export holds the server's copy.");
    try {
      const csv = await api.exportCsv();
      downloadBytes(csv.body, csv.filename, "text/csv");
      status.flash(`Downloaded ${csv.filename}`);
    } catch (e) {
      status.flash(`Export failed: ${e instanceof Error ? e.message : String(e)}`, 8000);
    }
  }

  const toolbar = new Toolbar({
    tool: (t) => {
      viewer.tool = t;
      refresh();
    },
    preset: (p) => viewer.setPreset(p),
    flip: (hz) => viewer.flip(hz),
    rotate: (d) => viewer.rotate(d),
    invert: () => viewer.toggleInvert(),
    scope: (s) => viewer.setScope(s),
    deleteRoi: () => viewer.deleteSelected(),
    exportRois: () => void exportRois(),
    reset: () => viewer.reset(),
    togglePane: (w) => togglePane(w),
  });

  function togglePane(which: "files" | "tags"): void {
    panes[which] = !panes[which];
    root.classList.toggle(`dcmv-hide-${which}`, !panes[which]);
    refresh();
  }

  let tabsKey = "";
  function refresh(): void {
    const doc = viewer.active;
    const img = doc?.image;
    toolbar.update({
      tool: viewer.tool,
      preset: doc?.preset ?? "default",
      windowable: doc?.mode === "raw",
      invert: doc?.invert ?? false,
      scope: viewer.scope,
      hasSelection: doc?.selected !== null && doc?.selected !== undefined,
      hasFile: !!img,
      filesOpen: panes.files,
      tagsOpen: panes.tags,
    });
    frameBar.update(
      doc?.frame ?? 0,
      doc ? frameCount(doc) : 1,
      playback.playing,
      playback.fps,
      playback.mode,
    );
    root.dataset.playing = String(playback.playing);
    root.dataset.cineStalls = String(playback.stalls);
    root.dataset.tool = viewer.tool;
    const key = `${viewer.docs.map((d) => d.file.index).join(",")}|${doc?.file.index ?? ""}`;
    if (key !== tabsKey) {
      tabsKey = key;
      tabs.render(viewer.docs, doc);
    }
    tree.setActive(doc?.file.index ?? null);
    if (panes.tags) tags.show(doc?.file.index ?? null);
    const file = doc?.file.index;
    status.setSave(
      file === undefined ? store.overall() : worst(store.state(file), store.overall()),
      file === undefined ? null : store.error(file),
    );
    root.dataset.save = store.overall();
    if (store.notice) {
      status.flash(store.notice, 8000);
      store.notice = null;
    }
    pushSync();
  }

  // -- view state shared with a host (notebook traitlets) ----------------------------------
  let files: FileSummary[] = [];
  let synced: ViewSync | null = null;
  // Nothing is pushed before the host's initial state is applied: opening the first file must
  // not overwrite values set from Python (or shown by another view of the same widget).
  let syncReady = false;
  function currentSync(): ViewSync | null {
    const doc = viewer.active;
    if (!doc) return null;
    const w = viewer.window();
    return {
      file: doc.file.index,
      frame: doc.frame,
      wc: w ? w.center : null,
      ww: w ? w.width : null,
      tool: viewer.tool,
    };
  }
  function pushSync(): void {
    const now = currentSync();
    if (!opts.sync || !syncReady || !now || sameSync(synced, now)) return;
    synced = now;
    opts.sync.push(now);
  }
  function applySync(s: Partial<ViewSync>): void {
    const todo = changes(currentSync(), s);
    if (todo.file !== undefined) {
      const f = files.find((x) => x.index === todo.file);
      if (f) {
        playback.stop();
        viewer.open(f);
      }
    }
    const doc = viewer.active;
    if (todo.frame !== undefined && doc) {
      playback.stop();
      if (doc.info) viewer.showFrame(todo.frame);
      else doc.frame = Math.max(0, todo.frame);
    }
    if (typeof todo.wc === "number" && typeof todo.ww === "number") {
      viewer.setWindow({ center: todo.wc, width: todo.ww });
    }
    if (todo.tool !== undefined) viewer.tool = todo.tool;
    refresh();
  }
  const stopSync = opts.sync?.listen(applySync, () => {
    const doc = viewer.active;
    if (doc) void store.reload(doc.file.index);
    for (const d of viewer.docs) if (d !== doc) void store.reload(d.file.index);
  });
  viewer.onChange = refresh;
  store.onChange(() => refresh());

  const center = h("section", { class: "dcmv-center" }, tabs.el, viewport.el, frameBar.el);
  root.append(toolbar.el, h("div", { class: "dcmv-main" }, tree.el, center, tags.el), status.el);
  root.dataset.renderer = viewport.rendererKind;
  let paints = 0;
  viewport.onPaint = () => {
    root.dataset.paints = String(++paints);
  };
  // A narrow host (a notebook cell) starts with the side panes folded, leaving room for the image.
  const width = root.getBoundingClientRect().width;
  if (width > 0 && width < NARROW_TAGS) togglePane("tags");
  if (width > 0 && width < NARROW_FILES) togglePane("files");
  const detachPointer = attachPointer(viewport.el, viewer, {
    activeTool: () => viewer.tool,
    reset: () => viewer.reset(),
    stepFrames: (d) => {
      playback.stop();
      viewer.step(d);
    },
    hover: (p) => viewer.hover(p),
  });

  const onKey = (e: KeyboardEvent) => {
    const a = actionFor(e);
    if (!a) return;
    e.preventDefault();
    switch (a.type) {
      case "frame":
        playback.stop();
        viewer.step(a.delta);
        break;
      case "cine":
        playback.toggle();
        break;
      case "tool":
        viewer.tool = a.tool;
        refresh();
        break;
      case "delete-roi":
        viewer.deleteSelected();
        break;
      case "reset":
        viewer.reset();
        break;
      case "escape":
        viewer.select(null);
        break;
    }
  };
  const keyTarget: EventTarget = opts.keyScope === "document" ? document : root;
  if (opts.keyScope === "root" && root.tabIndex < 0) root.tabIndex = 0;
  keyTarget.addEventListener("keydown", onKey as EventListener);

  const onUnload = (e: BeforeUnloadEvent) => {
    if (!store.hasPending()) return;
    e.preventDefault();
    e.returnValue = "";
  };
  window.addEventListener("beforeunload", onUnload);

  function accessDenied(): void {
    cleanup();
    showAccessRequired(root, opts.hadToken);
  }

  async function poll(): Promise<void> {
    if (stopped) return;
    let r: FilesResponse;
    try {
      r = await api.files();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        accessDenied();
        return;
      }
      status.setScanError(`Server not reachable: ${e instanceof Error ? e.message : String(e)}`);
      pollTimer = setTimeout(() => void poll(), POLL_MS * 3);
      return;
    }
    if (stopped) return;
    status.setFiles(r);
    tree.setFiles(r.files);
    files = r.files;
    if (!viewer.docs.length && r.files[0]) {
      const wanted = opts.sync?.initial() ?? {};
      viewer.open(r.files.find((f) => f.index === wanted.file) ?? r.files[0]);
      applySync(wanted);
    }
    syncReady = true;
    if (!r.files.length && r.scan_complete) {
      viewport.showMessage(
        "No DICOM files",
        "The server found no file it can show; see the status bar.",
      );
    }
    if (!r.scan_complete) pollTimer = setTimeout(() => void poll(), POLL_MS);
  }

  function cleanup(): void {
    if (stopped) return;
    stopped = true;
    if (pollTimer) clearTimeout(pollTimer);
    playback.stop();
    stopSync?.();
    detachPointer();
    keyTarget.removeEventListener("keydown", onKey as EventListener);
    window.removeEventListener("beforeunload", onUnload);
    viewport.dispose();
  }

  refresh();
  viewport.showMessage("Loading…");
  void poll().then(() => {
    if (!viewer.docs.length && !stopped) viewport.showMessage(null);
  });
  return cleanup;
}

function worst(a: ReturnType<AnnotationStore["state"]>, b: ReturnType<AnnotationStore["state"]>) {
  const rank = { saved: 0, loading: 0, saving: 1, unsaved: 2, failed: 3 } as const;
  return rank[a] >= rank[b] ? a : b;
}
