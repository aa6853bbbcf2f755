// The ROI list of the shown file: each box's coordinates ([ymin, xmin, ymax, xmax], the CSV's
// order) and frame scope; a click selects the ROI (and shows a frame it is on), × deletes it.

import { boxText, type Roi, scopeText, visibleOn } from "../rois";
import { h, setChildren } from "./dom";

export interface RoiListActions {
  select(index: number, roi: Roi): void;
  remove(index: number): void;
}

export class RoiList {
  readonly el: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly count: HTMLSpanElement;
  private key = "";

  constructor(private readonly on: RoiListActions) {
    this.count = h("span", { class: "dcmv-rois-count" });
    this.list = h("ol", { class: "dcmv-roi-list", "aria-label": "ROIs of this file" });
    this.el = h(
      "section",
      { class: "dcmv-rois" },
      h("div", { class: "dcmv-rois-head" }, h("span", {}, "ROIs"), this.count),
      this.list,
    );
  }

  /** Show `rois` of the open file (null: no file); cheap when nothing changed (cine). */
  update(rois: readonly Roi[] | null, selected: number | null, frame: number): void {
    const key = JSON.stringify([rois, selected, frame]);
    if (key === this.key) return;
    this.key = key;
    this.count.textContent = rois ? String(rois.length) : "";
    if (!rois?.length) {
      const hint = rois ? "None yet: press R and drag on the image." : "No file open.";
      setChildren(this.list, h("li", { class: "dcmv-empty" }, hint));
      return;
    }
    setChildren(this.list, ...rois.map((roi, i) => this.row(roi, i, i === selected, frame)));
  }

  private row(roi: Roi, i: number, selected: boolean, frame: number): HTMLElement {
    const del = h(
      "button",
      {
        type: "button",
        class: "dcmv-btn dcmv-roi-delete",
        title: `Delete ROI ${i + 1}`,
        "aria-label": `Delete ROI ${i + 1}`,
      },
      "×",
    );
    del.addEventListener("click", (e) => {
      e.stopPropagation();
      this.on.remove(i);
    });
    const li = h(
      "li",
      {
        class: `dcmv-roi${visibleOn(roi, frame) ? "" : " dcmv-roi-elsewhere"}`,
        "aria-selected": String(selected),
        title: `ROI ${i + 1}: click to select`,
        dataset: { roi: String(i) },
      },
      h("span", { class: "dcmv-roi-num" }, String(i + 1)),
      h("span", { class: "dcmv-roi-box" }, boxText(roi.box)),
      h("span", { class: "dcmv-roi-scope" }, scopeText(roi)),
      del,
    );
    li.addEventListener("click", () => this.on.select(i, roi));
    return li;
  }
}
