// The status bar: server, files loaded, scan progress, ROI save state (with retry), notices.

import type { SaveState } from "../annotations";
import type { FilesResponse } from "../types";
import { h, setChildren } from "./dom";

export class StatusBar {
  readonly el: HTMLDivElement;
  private readonly server: HTMLSpanElement;
  private readonly files: HTMLSpanElement;
  private readonly scan: HTMLSpanElement;
  private readonly save: HTMLSpanElement;
  private readonly notice: HTMLSpanElement;
  private readonly masked: HTMLSpanElement;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    serverText: string,
    private readonly onRetry: () => void,
  ) {
    this.server = h(
      "span",
      { class: "dcmv-status-server", title: "Where the data comes from" },
      serverText,
    );
    this.files = h("span", { class: "dcmv-status-files" }, "…");
    this.scan = h("span", { class: "dcmv-status-scan" }, "Connecting…");
    this.save = h("span", { class: "dcmv-save" });
    this.notice = h("span", { class: "dcmv-notice", role: "status" });
    this.masked = h(
      "span",
      {
        class: "dcmv-masked",
        hidden: true,
        title: "--mask: patient identifiers are replaced on screen (display only)",
      },
      "Identifiers masked",
    );
    this.el = h(
      "div",
      { class: "dcmv-status" },
      this.server,
      this.files,
      this.scan,
      this.masked,
      h("span", { class: "dcmv-spacer" }),
      this.notice,
      this.save,
    );
  }

  setFiles(r: FilesResponse): void {
    this.files.textContent = `${r.files.length} file${r.files.length === 1 ? "" : "s"} loaded`;
    const skipped = r.skipped ? `, ${r.skipped} skipped` : "";
    const filtered = r.filtered ? `, ${r.filtered} filtered out` : "";
    this.scan.textContent = r.scan_complete
      ? `Scan complete: ${r.scanned} scanned${skipped}${filtered}`
      : `Scanning… ${r.scanned} scanned${skipped}`;
    this.scan.dataset.complete = String(r.scan_complete);
    const reasons = r.discovery.slice(0, 20).map((d) => `${d.path}: ${d.reason}`);
    this.scan.title = reasons.join("\n");
    if (r.tunnelled) this.server.title = `Tunnelled through ${r.tunnel_host ?? "ssh"}`;
  }

  /** Say that identifiers are masked (a `--mask` session). */
  setMasked(masked: boolean): void {
    this.masked.hidden = !masked;
  }

  setScanError(text: string): void {
    this.scan.textContent = text;
  }

  /** Show the ROI save state; null shows nothing (no file open: there is nothing to save). */
  setSave(state: SaveState | null, error: string | null): void {
    if (this.save.dataset.save === (state ?? "") && this.save.title === (error ?? "")) return;
    this.save.dataset.save = state ?? "";
    if (state === null) {
      this.save.replaceChildren();
      this.save.title = "";
      return;
    }
    const text: Record<SaveState, string> = {
      loading: "ROIs: loading",
      saved: "ROIs saved",
      saving: "Saving ROIs…",
      unsaved: "ROIs not saved yet",
      failed: "ROIs NOT saved",
    };
    const retry =
      state === "failed"
        ? h(
            "button",
            { type: "button", class: "dcmv-btn dcmv-retry", onclick: this.onRetry },
            "Retry",
          )
        : null;
    setChildren(this.save, text[state], retry);
    this.save.title = error ?? "";
  }

  /** A short message that fades after a few seconds. */
  flash(text: string, ms = 4000): void {
    this.notice.textContent = text;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.notice.textContent = "";
    }, ms);
  }
}
