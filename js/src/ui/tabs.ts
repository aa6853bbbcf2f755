// File tabs, labelled from the API's `label` (PatientID · Modality · StudyDate).

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
          close,
        );
        tab.addEventListener("click", () => this.onSelect(d));
        return tab;
      }),
    );
    this.el
      .querySelector('[aria-selected="true"]')
      ?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
  }
}
