// The toolbar: tools, window presets, orientation, invert, shutter, ROI scope/delete/export, the
// Redact tool's commands, reset, panes.

import type { ToolId } from "../keys";
import { PRESETS, type PresetId, presetLabel } from "../presets";
import { TOOL_LABELS } from "../tools/index";
import { h, select } from "./dom";

export interface ToolbarActions {
  tool(id: ToolId): void;
  preset(id: PresetId): void;
  flip(horizontal: boolean): void;
  rotate(dir: 1 | -1): void;
  invert(): void;
  shutter(): void;
  scope(s: "frame" | "all"): void;
  deleteRoi(): void;
  exportRois(): void;
  /** The Redact tool's commands (SPEC §12). */
  copyRedactions(): void;
  exportRedactions(): void;
  reset(): void;
  togglePane(which: "files" | "tags"): void;
}

export interface ToolbarState {
  tool: ToolId;
  preset: PresetId | "manual";
  windowable: boolean;
  invert: boolean;
  /** The display shutter of the file shown: drawn, switched off, or none to switch. */
  shutter: "on" | "off" | "none";
  scope: "frame" | "all";
  hasSelection: boolean;
  hasFile: boolean;
  filesOpen: boolean;
  tagsOpen: boolean;
}

export class Toolbar {
  readonly el: HTMLDivElement;
  private readonly toolButtons = new Map<ToolId, HTMLButtonElement>();
  private readonly presetSelect: HTMLSelectElement;
  private readonly manualOption: HTMLOptionElement;
  private readonly invertBtn: HTMLButtonElement;
  private readonly shutterBtn: HTMLButtonElement;
  private readonly scopeSelect: HTMLSelectElement;
  private readonly deleteBtn: HTMLButtonElement;
  /** Shown while the Redact tool is active. */
  private readonly redactGroup: HTMLDivElement;
  private readonly filesBtn: HTMLButtonElement;
  private readonly tagsBtn: HTMLButtonElement;
  private readonly fileButtons: HTMLButtonElement[] = [];

  constructor(a: ToolbarActions) {
    const btn = (label: string, title: string, onClick: () => void, cls = "") => {
      const b = h(
        "button",
        { type: "button", class: `dcmv-btn ${cls}`, title, onclick: onClick },
        label,
      );
      return b;
    };
    const tools = h("div", { class: "dcmv-group", role: "group", "aria-label": "Tools" });
    for (const [id, t] of Object.entries(TOOL_LABELS) as [ToolId, (typeof TOOL_LABELS)[ToolId]][]) {
      const b = btn(t.label, `${t.title} (${t.key})`, () => a.tool(id), "dcmv-tool");
      b.dataset.tool = id;
      this.toolButtons.set(id, b);
      tools.append(b);
    }
    this.presetSelect = select(
      PRESETS.map((p) => ({ value: p.id, label: presetLabel(p) })),
      { class: "dcmv-preset", title: "Window preset", "aria-label": "Window preset" },
    );
    this.manualOption = h("option", { value: "manual", disabled: true }, "Custom (W/L drag)");
    this.presetSelect.append(this.manualOption);
    this.presetSelect.addEventListener("change", () => {
      a.preset(this.presetSelect.value as PresetId);
      this.presetSelect.blur();
    });
    this.invertBtn = btn("Invert", "Invert grey levels", () => a.invert(), "dcmv-invert");
    this.shutterBtn = btn(
      "Shutter",
      "Show or hide the display shutter the file defines (hidden, the image under it shows)",
      () => a.shutter(),
      "dcmv-shutter",
    );
    const orient = h(
      "div",
      { class: "dcmv-group", role: "group", "aria-label": "Orientation" },
      btn("⇆", "Flip horizontally", () => a.flip(true), "dcmv-flip-h"),
      btn("⇅", "Flip vertically", () => a.flip(false), "dcmv-flip-v"),
      btn("⟲", "Rotate 90° counter-clockwise", () => a.rotate(-1), "dcmv-rot-ccw"),
      btn("⟳", "Rotate 90° clockwise", () => a.rotate(1), "dcmv-rot-cw"),
    );
    this.scopeSelect = select(
      [
        { value: "all", label: "ROI: all frames" },
        { value: "frame", label: "ROI: this frame" },
      ],
      {
        class: "dcmv-scope",
        title: "Frames a new or the selected ROI belongs to",
        "aria-label": "ROI frame scope",
      },
    );
    this.scopeSelect.addEventListener("change", () => {
      a.scope(this.scopeSelect.value as "frame" | "all");
      this.scopeSelect.blur();
    });
    this.deleteBtn = btn(
      "Delete ROI",
      "Delete the selected ROI (Delete)",
      () => a.deleteRoi(),
      "dcmv-delete-roi",
    );
    const exportBtn = btn(
      "Export ROIs",
      "Download every ROI as CSV",
      () => a.exportRois(),
      "dcmv-export",
    );
    this.redactGroup = h(
      "div",
      { class: "dcmv-group dcmv-redact-group", role: "group", "aria-label": "Redaction" },
      btn(
        "Copy to stack",
        "Give every image of this stack the redaction boxes of the one shown",
        () => a.copyRedactions(),
        "dcmv-copy-redactions",
      ),
      btn(
        "Export redactions",
        "Download every redaction box as CSV",
        () => a.exportRedactions(),
        "dcmv-export-redactions",
      ),
    );
    const resetBtn = btn(
      "Reset",
      "Reset zoom, pan, orientation, window and invert (double-click)",
      () => a.reset(),
      "dcmv-reset",
    );
    this.filesBtn = btn(
      "Files",
      "Show or hide the file explorer",
      () => a.togglePane("files"),
      "dcmv-toggle-files",
    );
    this.tagsBtn = btn(
      "Tags",
      "Show or hide the DICOM tags",
      () => a.togglePane("tags"),
      "dcmv-toggle-tags",
    );
    this.fileButtons.push(
      this.invertBtn,
      resetBtn,
      ...(orient.children as unknown as HTMLButtonElement[]),
    );
    this.el = h(
      "div",
      { class: "dcmv-toolbar", role: "toolbar" },
      this.filesBtn,
      tools,
      this.presetSelect,
      this.invertBtn,
      this.shutterBtn,
      orient,
      h("div", { class: "dcmv-group" }, this.scopeSelect, this.deleteBtn, exportBtn),
      this.redactGroup,
      resetBtn,
      h("div", { class: "dcmv-spacer" }),
      this.tagsBtn,
    );
  }

  update(s: ToolbarState): void {
    for (const [id, b] of this.toolButtons) b.setAttribute("aria-pressed", String(id === s.tool));
    this.presetSelect.value = s.preset;
    this.manualOption.hidden = s.preset !== "manual";
    this.presetSelect.disabled = !s.windowable;
    this.invertBtn.setAttribute("aria-pressed", String(s.invert));
    this.shutterBtn.setAttribute("aria-pressed", String(s.shutter === "on"));
    this.shutterBtn.disabled = s.shutter === "none";
    this.scopeSelect.value = s.scope;
    this.deleteBtn.disabled = !s.hasSelection;
    this.deleteBtn.textContent = s.tool === "redact" ? "Delete box" : "Delete ROI";
    this.redactGroup.hidden = s.tool !== "redact";
    for (const b of this.fileButtons) b.disabled = !s.hasFile;
    this.filesBtn.setAttribute("aria-pressed", String(s.filesOpen));
    this.tagsBtn.setAttribute("aria-pressed", String(s.tagsOpen));
  }
}
