// Zoom controls over the viewport: −, the zoom in percent (click: 100 %, one image pixel per
// screen pixel), + and Fit. They act through the view the viewer holds, about the canvas centre.

import { h } from "./dom";

export interface ZoomActions {
  /** Multiply the zoom by `factor` about the canvas centre. */
  zoomBy(factor: number): void;
  /** One image pixel per CSS pixel. */
  actualSize(): void;
  /** Fit the image to the viewport (zoom and pan reset; orientation kept). */
  fit(): void;
}

const STEP = 1.25;

export class ZoomControls {
  readonly el: HTMLDivElement;
  private readonly percent: HTMLButtonElement;

  constructor(a: ZoomActions) {
    const btn = (label: string, title: string, cls: string, fn: () => void) =>
      h("button", { type: "button", class: `dcmv-btn ${cls}`, title, onclick: fn }, label);
    this.percent = btn(
      "100%",
      "Zoom: click for 100 % (1 image pixel = 1 screen pixel)",
      "dcmv-zoom-pct",
      () => a.actualSize(),
    );
    this.el = h(
      "div",
      { class: "dcmv-zoom", role: "group", "aria-label": "Zoom" },
      btn("−", "Zoom out", "dcmv-zoom-out", () => a.zoomBy(1 / STEP)),
      this.percent,
      btn("+", "Zoom in", "dcmv-zoom-in", () => a.zoomBy(STEP)),
      btn("Fit", "Fit the image to the viewport", "dcmv-zoom-fit", () => a.fit()),
    );
    // The viewport's pointer tools must not see clicks on the controls (a click would start a
    // W/L drag or draw an ROI; a double-click would reset the view).
    for (const type of ["pointerdown", "dblclick", "wheel", "contextmenu"]) {
      this.el.addEventListener(type, (e) => e.stopPropagation());
    }
  }

  /** Show the zoom (canvas pixels per image pixel); hidden without an image. */
  update(scale: number | null): void {
    // Called on every paint during cine: touch the DOM only for a change.
    if (this.el.hidden !== (scale === null)) this.el.hidden = scale === null;
    const text = scale === null ? "" : `${Math.round(scale * 100)}%`;
    if (text && this.percent.textContent !== text) this.percent.textContent = text;
  }
}
