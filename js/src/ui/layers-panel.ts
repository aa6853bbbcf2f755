// The layers panel (SPEC §10): the layers over the stack shown, each with a visibility toggle,
// its opacity (0-100 %), outline or fill for labels, and its legend (label colours and names,
// or a colour bar with its range and units); layers that cannot be drawn, with the reason.

import type { LayerSet } from "../layers/layer-set";
import { colormapGradient, type LayerJson } from "../layers/model";
import { h, setChildren } from "./dom";

export class LayersPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLDivElement;
  private readonly count: HTMLSpanElement;
  private key = "";

  constructor(private readonly layers: LayerSet) {
    this.count = h("span", { class: "dcmv-layers-count" });
    this.list = h("div", { class: "dcmv-layer-list", "aria-label": "Layers" });
    this.el = h(
      "section",
      { class: "dcmv-layers-panel" },
      h("div", { class: "dcmv-rois-head" }, h("span", {}, "Layers"), this.count),
      this.list,
    );
    this.el.hidden = true;
  }

  /** Show the layers of stack `stackId`; rebuilt only when the list or the stack changes. */
  update(stackId: string | null): void {
    const all = this.layers.layers;
    const key = JSON.stringify([all, stackId]);
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = all.length === 0;
    const here = this.layers.onStack(stackId);
    const refused = all.filter((l) => l.problem);
    this.count.textContent = String(here.length);
    const rows: HTMLElement[] = here.map((l) => this.row(l));
    if (!here.length) {
      rows.push(h("div", { class: "dcmv-empty" }, "No layer on the images shown."));
    }
    for (const l of refused) {
      rows.push(
        h(
          "div",
          { class: "dcmv-layer dcmv-layer-refused", dataset: { layer: l.id } },
          h("span", { class: "dcmv-layer-name" }, l.name),
          h("div", { class: "dcmv-layer-problem" }, `Not drawn: ${l.problem}`),
        ),
      );
    }
    setChildren(this.list, ...rows);
  }

  private row(layer: LayerJson): HTMLElement {
    const style = this.layers.style(layer.id);
    const visible = h("input", {
      type: "checkbox",
      class: "dcmv-layer-visible",
      checked: style?.visible ?? true,
      "aria-label": `Show ${layer.name}`,
    });
    visible.addEventListener("change", () =>
      this.layers.setStyle(layer.id, { visible: visible.checked }),
    );
    const opacity = h("input", {
      type: "range",
      class: "dcmv-layer-opacity",
      min: "0",
      max: "100",
      step: "1",
      value: String(Math.round((style?.opacity ?? 0.5) * 100)),
      "aria-label": `Opacity of ${layer.name} (%)`,
      "data-lm-suppress-shortcuts": "true",
    });
    const percent = h("span", { class: "dcmv-layer-percent" }, `${opacity.value} %`);
    opacity.addEventListener("input", () => {
      percent.textContent = `${opacity.value} %`;
      this.layers.setStyle(layer.id, { opacity: Number(opacity.value) / 100 });
    });
    const controls = h("div", { class: "dcmv-layer-controls" }, opacity, percent);
    if (layer.kind !== "heatmap") {
      const mode = h(
        "select",
        { class: "dcmv-layer-mode", "aria-label": `Draw ${layer.name} as` },
        h("option", { value: "fill" }, "Fill"),
        h("option", { value: "outline" }, "Outline"),
      );
      mode.value = style?.outline ? "outline" : "fill";
      mode.addEventListener("change", () =>
        this.layers.setStyle(layer.id, { outline: mode.value === "outline" }),
      );
      controls.append(mode);
    }
    return h(
      "div",
      { class: "dcmv-layer", dataset: { layer: layer.id } },
      h(
        "label",
        { class: "dcmv-layer-title", title: `${layer.kind} from ${layer.source}` },
        visible,
        h("span", { class: "dcmv-layer-name" }, layer.name),
      ),
      controls,
      legend(layer),
    );
  }
}

function legend(layer: LayerJson): HTMLElement {
  if (layer.kind === "heatmap") {
    const [lo, hi] = layer.value_range ?? [0, 0];
    const units = layer.units ? ` ${layer.units}` : "";
    return h(
      "div",
      { class: "dcmv-layer-legend" },
      h("div", {
        class: "dcmv-colorbar",
        style: `background: ${colormapGradient(layer.colormap)}`,
      }),
      h(
        "div",
        { class: "dcmv-colorbar-range" },
        h("span", {}, `${short(lo)}${units}`),
        h("span", {}, `${short(hi)}${units}`),
      ),
    );
  }
  return h(
    "ul",
    { class: "dcmv-layer-legend dcmv-labels" },
    ...layer.labels.map((l) =>
      h(
        "li",
        { dataset: { value: String(l.value) } },
        h("span", { class: "dcmv-swatch", style: `background: ${l.color}` }),
        l.name,
      ),
    ),
  );
}

function short(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e5)
    ? v.toExponential(2)
    : Number(v.toPrecision(4)).toString();
}
