// The layer list (`api/layers`, SPEC §10), asked once the scan is complete and again whenever
// layers may have changed: in the notebook when the kernel says so (the `layers_version` trait),
// on the server page every few seconds while the page is visible (a script's `add_layer` on the
// view() handle has no other way to reach it).

import type { Api } from "../api";
import type { LayerSet } from "../layers/layer-set";

const POLL_MS = 2000;
const RETRY_MS = 700;

export class LayersLoader {
  private started = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private asking = false;
  private again = false;
  private unwatch: (() => void) | null = null;

  /** `watch` subscribes to the host's notices of change (null: poll). */
  constructor(
    private readonly api: Api,
    private readonly layers: LayerSet,
    private readonly watch: ((changed: () => void) => () => void) | null,
  ) {}

  /** The scan is complete: ask now, then keep the list current. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unwatch = this.watch?.(() => void this.ask()) ?? null;
    void this.ask();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    if (this.timer) clearTimeout(this.timer);
  }

  private async ask(poll = false): Promise<void> {
    if (this.stopped) return;
    if (this.asking) {
      this.again = true; // a change announced while asking: ask once more after
      return;
    }
    this.asking = true;
    let ok = true;
    try {
      this.layers.setList(await this.api.layers(poll));
    } catch {
      ok = false;
    }
    this.asking = false;
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      void this.ask();
      return;
    }
    if (!ok) this.later(RETRY_MS);
    else if (!this.watch) this.later(POLL_MS);
  }

  private later(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (typeof document !== "undefined" && document.visibilityState === "hidden") {
        this.later(ms);
        return;
      }
      void this.ask(true);
    }, ms);
  }
}
