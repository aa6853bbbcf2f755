// Frame controls under the viewport: previous/next, play/pause, slider, i/N, FPS, loop/sweep.

import { type CineMode, FPS_CHOICES } from "../cine";
import { h, select } from "./dom";

export interface FrameBarActions {
  step(delta: 1 | -1): void;
  toggleCine(): void;
  seek(frame: number): void;
  fps(fps: number): void;
  mode(mode: CineMode): void;
}

export class FrameBar {
  readonly el: HTMLDivElement;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLSpanElement;
  private readonly play: HTMLButtonElement;
  private readonly fpsSelect: HTMLSelectElement;
  private readonly modeSelect: HTMLSelectElement;

  constructor(a: FrameBarActions) {
    const btn = (label: string, title: string, cls: string, fn: () => void) =>
      h("button", { type: "button", class: `dcmv-btn ${cls}`, title, onclick: fn }, label);
    this.play = btn("▶", "Play / pause cine (Space)", "dcmv-play", () => a.toggleCine());
    this.slider = h("input", {
      type: "range",
      class: "dcmv-slider",
      min: "0",
      max: "0",
      step: "1",
      value: "0",
      "aria-label": "Frame",
    });
    this.slider.addEventListener("input", () => a.seek(Number(this.slider.value)));
    this.label = h(
      "span",
      { class: "dcmv-frame-label", title: "Image in the stack; ↑/↓: previous/next stack" },
      "1 / 1",
    );
    this.fpsSelect = select(
      FPS_CHOICES.map((f) => ({ value: String(f), label: `${f} fps` })),
      { class: "dcmv-fps", title: "Cine frames per second", "aria-label": "Frames per second" },
    );
    this.fpsSelect.addEventListener("change", () => {
      a.fps(Number(this.fpsSelect.value));
      this.fpsSelect.blur();
    });
    this.modeSelect = select(
      [
        { value: "loop", label: "Loop" },
        { value: "sweep", label: "Sweep" },
      ],
      {
        class: "dcmv-cine-mode",
        title: "Loop: restart at the end; sweep: play back and forth",
        "aria-label": "Cine mode",
      },
    );
    this.modeSelect.addEventListener("change", () => {
      a.mode(this.modeSelect.value as CineMode);
      this.modeSelect.blur();
    });
    this.el = h(
      "div",
      { class: "dcmv-framebar" },
      btn("◀", "Previous image of the stack or frame (←, [ or wheel up)", "dcmv-prev", () =>
        a.step(-1),
      ),
      this.play,
      btn("▶|", "Next image of the stack or frame (→, ] or wheel down)", "dcmv-next", () =>
        a.step(1),
      ),
      this.slider,
      this.label,
      this.fpsSelect,
      this.modeSelect,
    );
  }

  update(frame: number, count: number, playing: boolean, fps: number, mode: CineMode): void {
    this.el.hidden = count < 2;
    this.slider.max = String(count - 1);
    if (this.slider.value !== String(frame)) this.slider.value = String(frame);
    this.label.textContent = `${frame + 1} / ${count}`;
    this.play.textContent = playing ? "❚❚" : "▶";
    this.play.setAttribute("aria-pressed", String(playing));
    this.fpsSelect.value = String(fps);
    this.modeSelect.value = mode;
  }
}
