// Display shutters (SPEC §12): the server draws a file's shutter as a picture (its colour where
// the image is shuttered, transparent elsewhere); the viewport lays it over the image, so the
// user can switch it off and look under it. Display PNGs are asked for without the shutter.

import type { FileSummary } from "./types";

/** Does the file have a display shutter? */
export function hasShutter(f: FileSummary): boolean {
  return (f.shutter_shapes?.length ?? 0) > 0;
}

/** The overlay line naming the shutter of the file shown ("" without one). */
export function shutterLine(f: FileSummary, on: boolean): string {
  if (!hasShutter(f)) return "";
  return on ? `Shutter: ${f.shutter_shapes!.join(", ")}` : "Shutter off";
}

/** Fetches a file's shutter picture. */
export type ShutterFetch = (file: number) => Promise<ImageBitmap>;

/** The shutter pictures of the files shown, loaded once per file. */
export class ShutterCache {
  private readonly loaded = new Map<number, ImageBitmap | null>();
  private readonly pending = new Map<number, Promise<ImageBitmap | null>>();

  constructor(private readonly fetch: ShutterFetch) {}

  /** The file's picture: null when it has none (or it could not be loaded), undefined while
   *  it is not loaded yet. */
  peek(f: FileSummary): ImageBitmap | null | undefined {
    if (!hasShutter(f)) return null;
    return this.loaded.get(f.index);
  }

  /** Load the file's picture (once); resolves null when the file has none. A picture that
   *  cannot be loaded leaves the image unshuttered rather than unseen. */
  load(f: FileSummary): Promise<ImageBitmap | null> {
    if (!hasShutter(f)) return Promise.resolve(null);
    const done = this.loaded.get(f.index);
    if (done !== undefined) return Promise.resolve(done);
    let p = this.pending.get(f.index);
    if (!p) {
      p = this.fetch(f.index).then(
        (bitmap) => bitmap,
        () => null,
      );
      p.then((bitmap) => {
        this.loaded.set(f.index, bitmap);
        this.pending.delete(f.index);
      });
      this.pending.set(f.index, p);
    }
    return p;
  }

  /** Forget a file's picture (its tab closed). */
  drop(file: number): void {
    this.loaded.get(file)?.close();
    this.loaded.delete(file);
  }
}
