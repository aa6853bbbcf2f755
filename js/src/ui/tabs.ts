// File tabs, labelled from the API's `label` (PatientID · Modality · StudyDate); a tab scrolling
// a stack also shows the image position, `i/N` (updated in place as it moves).

import type { Doc } from "../doc";
import { h, setChildren } from "./dom";

export class Tabs {
  readonly el = h("div", { class: "dcmv-tabs", role: "tablist" });

  constructor(
    private readonly onSelect: (doc: Doc) => void,
    private readonly onClose: (doc: Doc) => void,
  ) {}

  render(docs: readonly Doc[], active: Doc | null): void {
    setChildren(
      this.el,
      ...docs.map((d) => {
        const close = h(
          "button",
          { type: "button", class: "dcmv-tab-close", title: "Close", "aria-label": "Close tab" },
          "×",
        );
        close.addEventListener("click", (e) => {
          e.stopPropagation();
          this.onClose(d);
        });
        const tab = h(
          "div",
          {
            class: "dcmv-tab",
            role: "tab",
            title: d.file.path,
            "aria-selected": String(d === active),
            dataset: { file: String(d.file.index) },
          },
          h("span", { class: "dcmv-tab-label" }, d.file.label),
          h("span", { class: "dcmv-tab-pos" }),
          close,
        );
        tab.addEventListener("click", () => this.onSelect(d));
        return tab;
      }),
    );
    this.el
      .querySelector('[aria-selected="true"]')
      ?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
    this.positions(docs);
  }

  /** Show each tab's file and its place in its stack (`i/N`), without building the tabs again. */
  positions(docs: readonly Doc[]): void {
    docs.forEach((d, i) => {
      const tab = this.el.children[i] as HTMLElement | undefined;
      if (!tab) return;
      const pos = d.seq ? `${d.position + 1}/${d.seq.length}` : "";
      const span = tab.querySelector(".dcmv-tab-pos");
      if (span && span.textContent !== pos) span.textContent = pos;
      if (tab.dataset.file !== String(d.file.index)) {
        tab.dataset.file = String(d.file.index);
        tab.title = d.file.path;
      }
    });
  }
}
