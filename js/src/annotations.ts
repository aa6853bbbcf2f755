// The ROIs of each file as the viewer edits them, kept in step with the server: every edit
// replaces the file's list locally and schedules one PUT (with If-Match); edits made while a PUT
// is in flight are sent after it. A 412 reloads the server's copy; other failures keep the edits
// and mark them unsaved until a retry succeeds.

import type { Api, BoxKind } from "./api";
import { fromPayload, type Roi, toPayload } from "./rois";
import { Signal } from "./signal";
import { ApiError } from "./transport/types";

export type SaveState = "loading" | "saved" | "saving" | "unsaved" | "failed";

interface Entry {
  rois: Roi[];
  etag: string | null;
  loaded: boolean;
  saving: boolean;
  dirty: boolean;
  error: string | null;
  waiters: (() => void)[];
}

export class AnnotationStore {
  private readonly entries = new Map<number, Entry>();
  private readonly changed = new Signal<number>();
  /** A one-line notice for the user (e.g. after a 412 reload); cleared by the reader. */
  notice: string | null = null;

  constructor(
    private readonly api: Api,
    readonly kind: BoxKind = "annotations",
  ) {}

  /** How messages name what this store holds. */
  private get what(): string {
    return this.kind === "redactions" ? "redaction boxes" : "ROIs";
  }

  /** Call `cb` with the file whose ROIs or save state changed; returns the unsubscribe. */
  onChange(cb: (file: number) => void): () => void {
    return this.changed.subscribe(cb);
  }

  private emit(file: number): void {
    this.changed.emit(file);
  }

  private entry(file: number): Entry {
    let e = this.entries.get(file);
    if (!e) {
      e = {
        rois: [],
        etag: null,
        loaded: false,
        saving: false,
        dirty: false,
        error: null,
        waiters: [],
      };
      this.entries.set(file, e);
    }
    return e;
  }

  /** Fetch the server's ROIs of a file (once; later calls return the local copy). */
  async load(file: number): Promise<Roi[]> {
    const e = this.entry(file);
    if (e.loaded) return e.rois;
    const r = await this.api.annotations(file, this.kind);
    if (!e.loaded) {
      e.rois = fromPayload(r.payload);
      e.etag = r.etag;
      e.loaded = true;
      this.emit(file);
    }
    return e.rois;
  }

  /** Fetch the server's ROIs again (they were changed elsewhere, e.g. from Python). Local edits
   * not yet saved win: their save meets a 412 and reloads then. */
  async reload(file: number): Promise<void> {
    const e = this.entries.get(file);
    if (!e?.loaded || e.dirty || e.saving) return;
    e.loaded = false;
    await this.load(file);
  }

  rois(file: number): readonly Roi[] {
    return this.entries.get(file)?.rois ?? [];
  }

  isLoaded(file: number): boolean {
    return this.entries.get(file)?.loaded ?? false;
  }

  /** Replace the ROIs of a file and save them. */
  set(file: number, rois: Roi[]): void {
    const e = this.entry(file);
    e.rois = rois;
    e.dirty = true;
    e.error = null;
    this.emit(file);
    void this.save(file);
  }

  state(file: number): SaveState {
    const e = this.entries.get(file);
    if (!e?.loaded) return "loading";
    if (e.error) return "failed";
    if (e.saving) return "saving";
    return e.dirty ? "unsaved" : "saved";
  }

  error(file: number): string | null {
    return this.entries.get(file)?.error ?? null;
  }

  /** The worst state over all files (for the status bar and the unload warning). */
  overall(): SaveState {
    let worst: SaveState = "saved";
    const rank: Record<SaveState, number> = {
      saved: 0,
      loading: 0,
      saving: 1,
      unsaved: 2,
      failed: 3,
    };
    for (const f of this.entries.keys()) {
      const s = this.state(f);
      if (rank[s] > rank[worst]) worst = s;
    }
    return worst;
  }

  /** Edits that are not on the server yet (pending or failed). */
  hasPending(): boolean {
    for (const e of this.entries.values()) if (e.saving || e.dirty || e.error) return true;
    return false;
  }

  /** Retry every failed save. */
  retry(): void {
    for (const [file, e] of this.entries) {
      if (e.error) {
        e.error = null;
        void this.save(file);
      }
    }
  }

  /** Resolves when no save is in flight or queued (failed saves stay failed). */
  async flush(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      if (e.saving) waits.push(new Promise((r) => e.waiters.push(r)));
    }
    await Promise.all(waits);
  }

  private async save(file: number): Promise<void> {
    const e = this.entry(file);
    if (e.saving || !e.dirty) return;
    e.saving = true;
    e.dirty = false;
    this.emit(file);
    try {
      const r = await this.api.putAnnotations(file, toPayload(e.rois), e.etag, this.kind);
      e.etag = r.etag;
      // Adopt the canonical form unless newer edits are waiting to be sent.
      if (!e.dirty) e.rois = fromPayload(r.payload);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        const r = await this.api.annotations(file, this.kind).catch(() => null);
        if (r) {
          e.rois = fromPayload(r.payload);
          e.etag = r.etag;
          e.dirty = false;
          this.notice = `The ${this.what} of this file changed on the server; its copy was reloaded.`;
        } else {
          e.dirty = true;
          e.error = `The ${this.what} changed on the server and could not be reloaded.`;
        }
      } else {
        e.dirty = true;
        e.error = err instanceof Error ? err.message : String(err);
      }
    } finally {
      e.saving = false;
    }
    if (e.dirty && !e.error) {
      await this.save(file);
      return;
    }
    const waiters = e.waiters.splice(0);
    for (const w of waiters) w();
    this.emit(file);
  }
}
