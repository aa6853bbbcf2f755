// Decoded frames of the open files: a byte-budgeted LRU with shared in-flight loads and a small
// prefetch queue. The frame on screen is requested at once; prefetches wait for a free slot and
// are dropped when playback moves elsewhere.

import type { Place } from "../navigation";
import { byteSize, type FrameImage } from "./image";

export type Loader = (file: number, frame: number, signal: AbortSignal) => Promise<FrameImage>;

interface Entry {
  promise: Promise<FrameImage>;
  image: FrameImage | null;
  bytes: number;
}

const key = (file: number, frame: number) => `${file}:${frame}`;

export class FrameCache {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Place[] = [];
  private inFlight = 0;
  private bytes = 0;
  private readonly aborts = new Map<string, AbortController>();

  constructor(
    private readonly loader: Loader,
    private readonly budget = 512 * 1024 * 1024,
    private readonly maxParallel = 4,
  ) {}

  /** The frame if it is already decoded. */
  peek(file: number, frame: number): FrameImage | null {
    const e = this.entries.get(key(file, frame));
    if (!e?.image) return null;
    this.touch(key(file, frame), e);
    return e.image;
  }

  /** Load (or share the load of) a frame now, ahead of any queued prefetch. */
  get(file: number, frame: number): Promise<FrameImage> {
    const k = key(file, frame);
    const e = this.entries.get(k);
    if (e) {
      this.touch(k, e);
      return e.promise;
    }
    return this.start(file, frame);
  }

  /** Replace the prefetch queue with these frames (in order of need; any files). */
  prefetch(places: readonly Place[]): void {
    this.queue.length = 0;
    for (const p of places) if (!this.entries.has(key(p.file, p.frame))) this.queue.push(p);
    this.pump();
  }

  /** Is the frame decoded and ready to show? */
  has(file: number, frame: number): boolean {
    return !!this.entries.get(key(file, frame))?.image;
  }

  /** Forget every frame of a file (e.g. its tab was closed) and abort its loads. */
  dropFile(file: number): void {
    for (const [k, e] of this.entries) {
      if (!k.startsWith(`${file}:`)) continue;
      this.aborts.get(k)?.abort();
      this.bytes -= e.bytes;
      this.entries.delete(k);
    }
  }

  get usedBytes(): number {
    return this.bytes;
  }

  private start(file: number, frame: number): Promise<FrameImage> {
    const k = key(file, frame);
    const ctrl = new AbortController();
    this.aborts.set(k, ctrl);
    this.inFlight++;
    const entry: Entry = {
      promise: Promise.resolve(null as unknown as FrameImage),
      image: null,
      bytes: 0,
    };
    entry.promise = this.loader(file, frame, ctrl.signal).then(
      (img) => {
        if (this.entries.get(k) === entry) {
          entry.image = img;
          entry.bytes = byteSize(img);
          this.bytes += entry.bytes;
          this.evict(k);
        }
        return img;
      },
      (err: unknown) => {
        if (this.entries.get(k) === entry) this.entries.delete(k);
        throw err;
      },
    );
    entry.promise
      .catch(() => undefined)
      .finally(() => {
        this.inFlight--;
        this.aborts.delete(k);
        this.pump();
      });
    this.entries.set(k, entry);
    return entry.promise;
  }

  private pump(): void {
    while (this.inFlight < this.maxParallel && this.queue.length) {
      const next = this.queue.shift()!;
      if (!this.entries.has(key(next.file, next.frame))) {
        this.start(next.file, next.frame).catch(() => undefined);
      }
    }
  }

  private touch(k: string, e: Entry): void {
    this.entries.delete(k);
    this.entries.set(k, e);
  }

  private evict(keep: string): void {
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.budget) break;
      if (k === keep || !e.image) continue;
      this.bytes -= e.bytes;
      this.entries.delete(k);
    }
  }
}
