// The chrome around the viewport: toolbar, file explorer, tabs, frame bar, tag browser and status
// bar, laid out in the root element. It turns clicks into viewer commands and shows the viewer's
// and the ROI store's state again whenever either announces a change.

import type { AnnotationStore, SaveState } from "../annotations";
import type { Api } from "../api";
import type { Doc } from "../doc";
import { hasShutter } from "../shutters";
import type { FilesResponse } from "../types";
import { h } from "../ui/dom";
import { FileTree } from "../ui/file-tree";
import { FrameBar } from "../ui/frame-bar";
import { LayersPanel } from "../ui/layers-panel";
import { RoiList } from "../ui/roi-list";
import { StatusBar } from "../ui/status-bar";
import { Tabs } from "../ui/tabs";
import { TagsPanel } from "../ui/tags-panel";
import { Toolbar, type ToolbarActions } from "../ui/toolbar";
import { ZoomControls } from "../ui/zoom-controls";
import type { Viewer } from "../viewer";
import { zoomAt } from "../viewport/transform";

/** Below these root widths (CSS px) the tags / files panes start folded. */
const NARROW_TAGS = 1000;
const NARROW_FILES = 640;

type Pane = "files" | "tags";

export class Chrome {
  readonly status: StatusBar;
  private readonly toolbar: Toolbar;
  private readonly tree: FileTree;
  private readonly tabs: Tabs;
  private readonly frameBar: FrameBar;
  private readonly tags: TagsPanel;
  private readonly roiList: RoiList;
  private readonly layersPanel: LayersPanel | null;
  private readonly zoom: ZoomControls;
  private readonly panes = { files: true, tags: true };
  private tabsKey = "";
  private treeTimer: ReturnType<typeof setTimeout> | null = null;
  private treeFile: number | null = null;
  private readonly stops: (() => void)[];

  constructor(
    private readonly root: HTMLElement,
    private readonly viewer: Viewer,
    private readonly store: AnnotationStore,
    api: Api,
    server: string,
    exports: Pick<ToolbarActions, "exportRois" | "exportRedactions" | "copyRedactions">,
  ) {
    const go = viewer.navigate.bind(viewer);
    this.status = new StatusBar(server, () => store.retry());
    this.roiList = new RoiList({
      select(i, roi) {
        // An ROI on other frames only: show its first frame, so the selection is visible.
        const first = roi.frames[0];
        if (first !== undefined && !roi.frames.includes(viewer.frame())) {
          go({ kind: "to", position: first });
        }
        viewer.select(i);
      },
      remove: (i) => viewer.deleteRoi(i),
    });
    this.layersPanel = viewer.layers ? new LayersPanel(viewer.layers) : null;
    this.tags = new TagsPanel(
      api,
      () => this.togglePane("tags"),
      (t) => this.status.flash(t),
      h("div", { class: "dcmv-side-top" }, this.layersPanel?.el ?? null, this.roiList.el),
    );
    this.zoom = new ZoomControls({
      zoomBy(factor) {
        const c = viewer.canvasSize();
        viewer.setView(zoomAt(viewer.view(), factor, c.width / 2, c.height / 2, c));
      },
      actualSize() {
        const c = viewer.canvasSize();
        const k = 1 / viewer.imageScale();
        viewer.setView(zoomAt(viewer.view(), k, c.width / 2, c.height / 2, c));
      },
      fit: () => viewer.setView({ ...viewer.view(), zoom: 1, panX: 0, panY: 0 }),
    });
    viewer.viewport.el.append(this.zoom.el);
    this.tree = new FileTree(
      (file) => go({ kind: "open", file }),
      () => this.togglePane("files"),
    );
    this.tabs = new Tabs(
      (doc) => go({ kind: "tab", doc }),
      (doc) => go({ kind: "close", doc }),
    );
    const playback = viewer.playback;
    this.frameBar = new FrameBar({
      step: (delta) => go({ kind: "step", delta }),
      toggleCine: () => playback.toggle(),
      seek: (position) => go({ kind: "to", position }, "seek"),
      fps: (f) => playback.setFps(f),
      mode: (m) => playback.setMode(m),
    });
    this.toolbar = new Toolbar({
      tool: (t) => viewer.setTool(t),
      preset: (p) => viewer.setPreset(p),
      flip: (hz) => viewer.flip(hz),
      rotate: (d) => viewer.rotate(d),
      invert: () => viewer.toggleInvert(),
      shutter: () => viewer.toggleShutter(),
      scope: (s) => viewer.setScope(s),
      deleteRoi: () => viewer.deleteSelected(),
      ...exports,
      reset: () => viewer.reset(),
      togglePane: (w) => this.togglePane(w),
    });
    const center = h(
      "section",
      { class: "dcmv-center" },
      this.tabs.el,
      viewer.viewport.el,
      this.frameBar.el,
    );
    root.append(
      this.toolbar.el,
      h("div", { class: "dcmv-main" }, this.tree.el, center, this.tags.el),
      this.status.el,
    );
    // The zoom changes without an announced change (wheel, drag): follow its data-* mirror.
    const zoomWatch = new MutationObserver(() => this.showZoom());
    zoomWatch.observe(root, { attributes: true, attributeFilter: ["data-zoom", "data-state"] });
    this.stops = [
      viewer.changes.subscribe(() => this.refresh()),
      store.onChange(() => this.refresh()),
      viewer.redactions.onChange(() => this.refresh()),
      () => zoomWatch.disconnect(),
    ];
    // A narrow host (a notebook cell) starts with the side panes folded, leaving room for the image.
    const width = root.getBoundingClientRect().width;
    if (width > 0 && width < NARROW_TAGS) this.togglePane("tags");
    if (width > 0 && width < NARROW_FILES) this.togglePane("files");
    this.refresh();
  }

  /** A file list arrived (the scan may still be running). */
  setFiles(r: FilesResponse): void {
    this.status.setFiles(r);
    this.tree.setFiles(r.files);
  }

  /** Stop following the viewer and the store. */
  dispose(): void {
    for (const stop of this.stops) stop();
    if (this.treeTimer) clearTimeout(this.treeTimer);
  }

  /**
   * Mark (and scroll to) the shown file in the explorer after the image is painted, not in the
   * middle of it: moving through a stack changes the file on every image, and the tree's layout
   * and scroll would cost every step a frame. While cine plays it follows a few times a second.
   */
  private followTree(file: number | null, playing: boolean): void {
    this.treeFile = file;
    if (this.treeTimer) return;
    this.treeTimer = setTimeout(
      () => {
        this.treeTimer = null;
        this.tree.setActive(this.treeFile);
      },
      playing ? 250 : 0,
    );
  }

  private togglePane(which: Pane): void {
    this.panes[which] = !this.panes[which];
    this.root.classList.toggle(`dcmv-hide-${which}`, !this.panes[which]);
    this.refresh();
  }

  private showZoom(): void {
    this.zoom.update(this.viewer.active?.image ? this.viewer.imageScale() : null);
  }

  private refresh(): void {
    const { viewer, store, root } = this;
    const doc = viewer.active;
    this.roiList.update(
      doc ? store.rois(doc.file.index) : null,
      doc?.selected ?? null,
      doc?.frame ?? 0,
    );
    this.showZoom();
    this.layersPanel?.update(viewer.activeStack());
    const playback = viewer.playback;
    this.toolbar.update({
      tool: viewer.tool,
      preset: doc?.preset ?? "default",
      windowable: doc?.mode === "raw",
      invert: doc?.invert ?? false,
      shutter: shutterState(viewer),
      scope: viewer.scope,
      hasSelection: viewer.selected() !== null,
      hasFile: !!doc?.image,
      filesOpen: this.panes.files,
      tagsOpen: this.panes.tags,
    });
    this.frameBar.update(
      viewer.position(),
      Math.max(1, viewer.length()),
      playback.playing,
      playback.fps,
      playback.mode,
    );
    root.dataset.playing = String(playback.playing);
    root.dataset.cineStalls = String(playback.stalls);
    root.dataset.tool = viewer.tool;
    // A tab is its doc: moving in a stack changes the tab's file, not the tab.
    const tabKey = (d: Doc) => (d.seq ? `s${d.seq.stack.id}` : `f${d.file.index}`);
    const key = `${viewer.docs.map(tabKey).join(",")}|${doc ? tabKey(doc) : ""}`;
    if (key !== this.tabsKey) {
      this.tabsKey = key;
      this.tabs.render(viewer.docs, doc);
    } else this.tabs.positions(viewer.docs);
    this.followTree(doc?.file.index ?? null, playback.playing);
    // Tags follow the image shown, but not every image of a playing cine (they would compete
    // with its frames); they catch up when it stops.
    if (this.panes.tags && !playback.playing) this.tags.show(doc?.file.index ?? null);
    const file = doc?.file.index;
    // With no file open, "ROIs saved" would claim something about nothing: say nothing then,
    // unless edits of closed tabs are still on their way.
    const overall = store.overall();
    this.status.setSave(
      file === undefined
        ? overall === "saved" || overall === "loading"
          ? null
          : overall
        : worst(store.state(file), overall),
      file === undefined ? null : store.error(file),
    );
    root.dataset.save = store.overall();
    for (const boxes of [store, viewer.redactions]) {
      if (!boxes.notice) continue;
      this.status.flash(boxes.notice, 8000);
      boxes.notice = null;
    }
  }
}

/** The toolbar's shutter toggle: for the file whose image is on screen. */
function shutterState(viewer: Viewer): "on" | "off" | "none" {
  const shown = viewer.shownFile();
  if (!shown || !hasShutter(shown)) return "none";
  return viewer.showShutter ? "on" : "off";
}

function worst(a: SaveState, b: SaveState): SaveState {
  const rank = { saved: 0, loading: 0, saving: 1, unsaved: 2, failed: 3 } as const;
  return rank[a] >= rank[b] ? a : b;
}
