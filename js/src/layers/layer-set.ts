// The layers of the session as the viewer holds them: the list from `api/layers`, how each is
// drawn (visible, opacity, outline), and their slices by (layer, image of the stack), loaded on
// demand and ahead of scrolling, a few at a time. A slice not loaded yet is not drawn (never the
// slice of another image); its arrival repaints.

import type { Api } from "../api";
import { Signal } from "../signal";
import { defaultStyle, type LayerFrame, type LayerJson, type LayerStyle } from "./model";

/** Bytes of layer slices kept (least recently used go first). */
const BUDGET = 96 * 1024 * 1024;
/** Slice requests in flight at once (images have the other connections). */
const PARALLEL = 4;

/** A layer ready to draw on the image shown. */
export interface LayerDraw {
  layer: LayerJson;
  style: LayerStyle;
  frame: LayerFrame;
  /** Changes when the data changes (the painter's texture key). */
  key: string;
}

export class LayerSet {
  /** The list or a style changed (the panel redraws; the image repaints). */
  readonly changes = new Signal();
  /** A slice arrived for image `position` of `stack` (repainted if it is the one shown). */
  readonly arrived = new Signal<{ stack: string; position: number }>();
  layers: LayerJson[] = [];
  private readonly styles = new Map<string, LayerStyle>();
  /** The opacity and visibility the server gave last (a change there comes from Python). */
  private readonly served = new Map<string, string>();
  private readonly frames = new Map<string, LayerFrame | null>();
  /** The images each layer has a slice on (from the list): no request for the others. */
  private readonly covers = new Map<string, Set<number>>();
  private readonly queue: string[] = [];
  private readonly inflight = new Set<string>();
  private bytes = 0;

  constructor(private readonly api: Api) {}

  /** A new list from the server: styles of known layers stay unless Python changed them. */
  setList(list: readonly LayerJson[]): void {
    const ids = new Set(list.map((l) => l.id));
    for (const key of [...this.frames.keys()]) {
      if (!ids.has(key.split("/")[0]!)) this.forget(key);
    }
    for (const layer of list) {
      if (layer.frames) this.covers.set(layer.id, new Set(layer.frames));
      const served = JSON.stringify([layer.opacity, layer.visible]);
      const known = this.styles.get(layer.id);
      if (!known) this.styles.set(layer.id, defaultStyle(layer));
      else if (this.served.get(layer.id) !== served) {
        const fresh = defaultStyle(layer);
        this.styles.set(layer.id, { ...known, opacity: fresh.opacity, visible: fresh.visible });
      }
      this.served.set(layer.id, served);
    }
    const before = JSON.stringify(this.layers);
    this.layers = [...list];
    if (before !== JSON.stringify(this.layers)) this.changes.emit();
  }

  style(id: string): LayerStyle | null {
    return this.styles.get(id) ?? null;
  }

  setStyle(id: string, change: Partial<LayerStyle>): void {
    const s = this.styles.get(id);
    if (!s) return;
    this.styles.set(id, { ...s, ...change });
    this.changes.emit();
  }

  /** Layers drawn on a stack (placed there, not refused). */
  onStack(stackId: string | null): LayerJson[] {
    if (!stackId) return [];
    return this.layers.filter((l) => l.stack_id === stackId && !l.problem);
  }

  /** What to draw on image `position` of `stackId`; asks for what is missing. */
  draws(stackId: string | null, position: number): LayerDraw[] {
    const out: LayerDraw[] = [];
    for (const layer of this.onStack(stackId)) {
      const style = this.styles.get(layer.id);
      if (!style?.visible) continue;
      if (!this.covered(layer.id, position)) continue;
      const key = `${layer.id}/${position}`;
      const frame = this.frames.get(key);
      if (frame === undefined) this.want(key, true);
      else if (frame) {
        this.touch(key, frame);
        out.push({ layer, style, frame, key });
      }
    }
    return out;
  }

  /** The loaded slices of every layer on image `position` (the readout looks into them). */
  loaded(stackId: string | null, position: number): { layer: LayerJson; frame: LayerFrame }[] {
    const out = [];
    for (const layer of this.onStack(stackId)) {
      const frame = this.frames.get(`${layer.id}/${position}`);
      if (frame && this.styles.get(layer.id)?.visible) out.push({ layer, frame });
    }
    return out;
  }

  /**
   * Load the slices of visible layers on these images (the one shown first, then those ahead):
   * this replaces what was waiting, so slices of images scrolled past are not asked for any
   * more, and every layer of an image comes before the next image's.
   */
  prefetch(stackId: string | null, positions: readonly number[]): void {
    const layers = this.onStack(stackId).filter((l) => this.styles.get(l.id)?.visible);
    this.queue.length = 0;
    for (const p of positions) {
      for (const layer of layers) {
        if (!this.covered(layer.id, p)) continue;
        const key = `${layer.id}/${p}`;
        if (!this.frames.has(key) && !this.inflight.has(key)) this.queue.push(key);
      }
    }
    this.pump();
  }

  /** Has the layer a slice on image `position` (true when the server did not say)? */
  private covered(id: string, position: number): boolean {
    return this.covers.get(id)?.has(position) ?? true;
  }

  private want(key: string, now: boolean): void {
    if (this.inflight.has(key)) return;
    const i = this.queue.indexOf(key);
    if (i >= 0) this.queue.splice(i, 1);
    // The image shown first; prefetches after, in the order asked.
    if (now) this.queue.unshift(key);
    else this.queue.push(key);
    this.pump();
  }

  private pump(): void {
    while (this.inflight.size < PARALLEL && this.queue.length) {
      const key = this.queue.shift()!;
      if (this.frames.has(key)) continue;
      this.inflight.add(key);
      const [id, position] = key.split("/") as [string, string];
      this.api
        .layerFrame(id, Number(position))
        .then(
          (frame) => {
            const layer = this.layers.find((l) => l.id === id);
            if (!layer?.stack_id) return; // removed meanwhile
            this.frames.set(key, frame);
            this.bytes += frame ? frame.data.byteLength : 0;
            this.trim();
            if (frame) this.arrived.emit({ stack: layer.stack_id, position: Number(position) });
          },
          () => {
            // A failed slice is not drawn; asking again later (another scroll) retries it.
          },
        )
        .finally(() => {
          this.inflight.delete(key);
          this.pump();
        });
    }
  }

  private touch(key: string, frame: LayerFrame): void {
    this.frames.delete(key);
    this.frames.set(key, frame);
  }

  private forget(key: string): void {
    const frame = this.frames.get(key);
    this.bytes -= frame ? frame.data.byteLength : 0;
    this.frames.delete(key);
  }

  private trim(): void {
    for (const key of this.frames.keys()) {
      if (this.bytes <= BUDGET) return;
      this.forget(key);
    }
  }
}
