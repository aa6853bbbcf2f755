// Entry point of the bundle. On the server page it mounts itself into #dcmview-root; in a notebook
// anywidget calls `render({model, el})`. Only the transport differs.

import "./styles.css";
import { mountApp } from "./app";
import { type ModelSync, modelSync } from "./model-sync";
import { acquireToken } from "./token";
import { HttpTransport } from "./transport/http";
import { WidgetTransport } from "./transport/widget";
import { showKernelGone } from "./ui/access";

const ROOT_ID = "dcmview-root";

function mountPage(root: HTMLElement): void {
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = null;
  }
  const token = acquireToken(window.location, window.history, storage);
  const base = window.location.pathname.replace(/[^/]*$/, "");
  const renderer =
    new URLSearchParams(window.location.search).get("renderer") === "2d" ? "2d" : "webgl2";
  mountApp(root, {
    transport: new HttpTransport(token, "", `${window.location.host}${base}`),
    keyScope: "document",
    hadToken: token !== null,
    renderer,
  });
}

/** anywidget lifecycle: mount into the output cell; the returned function cleans up. */
function render({ model, el }: { model: ModelSync; el: HTMLElement }): () => void {
  const root = document.createElement("div");
  root.className = "dcmv-widget";
  const height = Number(model.get("height")) || 600;
  root.style.height = `${height}px`;
  el.append(root);
  const transport = new WidgetTransport(model);
  const cleanup = mountApp(root, {
    transport,
    keyScope: "root",
    hadToken: true,
    sync: modelSync(model),
  });
  // The kernel went away (shut down, restarted, died): say so instead of leaving a dead viewer.
  const onGone = () => {
    if ((model as { comm_live?: boolean }).comm_live === true) return;
    cleanup();
    transport.dispose();
    showKernelGone(root);
  };
  model.on("comm:close", onGone);
  model.on("comm_live_update", onGone);
  const stopWatching = watchKernel(model, onGone);
  return () => {
    stopWatching();
    model.off("comm:close", onGone);
    model.off("comm_live_update", onGone);
    cleanup();
    transport.dispose();
    root.remove();
  };
}

interface SignalLike<T> {
  connect(cb: (sender: unknown, value: T) => void): unknown;
  disconnect(cb: (sender: unknown, value: T) => void): unknown;
}

interface KernelLike {
  statusChanged?: SignalLike<string>;
  disposed?: SignalLike<void>;
}

/**
 * A kernel that is shut down (not restarted) closes no comm, so the widget would not know. The
 * JupyterLab widget manager exposes its kernel; when it goes "dead" the viewer says so. Other
 * front ends have no such object and rely on the request timeout.
 */
function watchKernel(model: ModelSync, onGone: () => void): () => void {
  const manager = (model as { widget_manager?: { kernel?: KernelLike | null } }).widget_manager;
  const kernel = manager?.kernel;
  const status = kernel?.statusChanged;
  const disposed = kernel?.disposed;
  const onStatus = (_: unknown, value: string) => {
    if (value === "dead" || value === "terminating") onGone();
  };
  const onDisposed = () => onGone();
  if (status && typeof status.connect === "function") status.connect(onStatus);
  if (disposed && typeof disposed.connect === "function") disposed.connect(onDisposed);
  return () => {
    if (status && typeof status.disconnect === "function") status.disconnect(onStatus);
    if (disposed && typeof disposed.disconnect === "function") disposed.disconnect(onDisposed);
  };
}

if (typeof document !== "undefined") {
  const root = document.getElementById(ROOT_ID);
  if (root) mountPage(root);
}

export default { render };
