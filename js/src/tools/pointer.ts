// Mouse bindings of SPEC §6: left-drag uses the active tool, middle-drag pans, right-drag zooms,
// the wheel scrolls frames (Ctrl/Cmd+wheel zooms at the cursor), double-click resets the view.

import type { ToolId } from "../keys";
import { zoomAt } from "../viewport/transform";
import { TOOLS } from "./index";
import type { Drag, ToolHost } from "./types";

export interface PointerOptions {
  activeTool(): ToolId;
  reset(): void;
  /** Step frames by the wheel (+1 = next). */
  stepFrames(delta: number): void;
  /** The pointer is over canvas point (x, y), or has left (null). */
  hover(point: [number, number] | null): void;
}

/** Wheel delta (pixels) per frame step; a mouse notch is about 100. */
const WHEEL_PIXELS_PER_FRAME = 50;

export function wheelPixels(e: { deltaY: number; deltaMode: number }): number {
  return e.deltaMode === 1 ? e.deltaY * 33 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
}

export function attachPointer(el: HTMLElement, host: ToolHost, opts: PointerOptions): () => void {
  let drag: Drag | null = null;
  let dragPointer = -1;
  let wheelAcc = 0;

  const local = (e: MouseEvent): [number, number] => {
    const r = el.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  const onDown = (e: PointerEvent) => {
    if (drag) return;
    const tool =
      e.button === 0
        ? TOOLS[opts.activeTool()]
        : e.button === 1
          ? TOOLS.pan
          : e.button === 2
            ? TOOLS.zoom
            : null;
    if (!tool) return;
    e.preventDefault();
    el.focus({ preventScroll: true });
    const [x, y] = local(e);
    drag = tool.begin(host, x, y);
    if (drag) {
      dragPointer = e.pointerId;
      el.setPointerCapture(e.pointerId);
    }
  };

  const onMove = (e: PointerEvent) => {
    const [x, y] = local(e);
    if (drag && e.pointerId === dragPointer) {
      drag.move(x, y);
    } else if (!drag) {
      TOOLS[opts.activeTool()].hover?.(host, x, y);
    }
    opts.hover([x, y]);
  };

  const onUp = (e: PointerEvent) => {
    if (!drag || e.pointerId !== dragPointer) return;
    const [x, y] = local(e);
    const d = drag;
    drag = null;
    if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
    d.end(x, y);
  };

  const onCancel = (e: PointerEvent) => {
    if (!drag || e.pointerId !== dragPointer) return;
    const [x, y] = local(e);
    const d = drag;
    drag = null;
    d.end(x, y);
  };

  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    if (e.ctrlKey || e.metaKey) {
      const [x, y] = local(e);
      const factor = 2 ** (-wheelPixels(e) / 500);
      host.setView(zoomAt(host.view(), factor, x, y, host.canvasSize()));
      return;
    }
    wheelAcc += wheelPixels(e);
    const steps = Math.trunc(wheelAcc / WHEEL_PIXELS_PER_FRAME);
    if (steps) {
      wheelAcc -= steps * WHEEL_PIXELS_PER_FRAME;
      opts.stepFrames(steps);
    }
  };

  const onDbl = (e: MouseEvent) => {
    e.preventDefault();
    opts.reset();
  };
  const onContext = (e: Event) => e.preventDefault();
  const onLeave = () => opts.hover(null);
  const onAux = (e: MouseEvent) => {
    if (e.button === 1) e.preventDefault();
  };

  el.addEventListener("pointerdown", onDown);
  el.addEventListener("pointermove", onMove);
  el.addEventListener("pointerup", onUp);
  el.addEventListener("pointercancel", onCancel);
  el.addEventListener("wheel", onWheel, { passive: false });
  el.addEventListener("dblclick", onDbl);
  el.addEventListener("contextmenu", onContext);
  el.addEventListener("pointerleave", onLeave);
  el.addEventListener("auxclick", onAux);
  return () => {
    el.removeEventListener("pointerdown", onDown);
    el.removeEventListener("pointermove", onMove);
    el.removeEventListener("pointerup", onUp);
    el.removeEventListener("pointercancel", onCancel);
    el.removeEventListener("wheel", onWheel);
    el.removeEventListener("dblclick", onDbl);
    el.removeEventListener("contextmenu", onContext);
    el.removeEventListener("pointerleave", onLeave);
    el.removeEventListener("auxclick", onAux);
  };
}
