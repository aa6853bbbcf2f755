// The dcmview HTTP API (SPEC §3) as typed calls over any Transport.

import { type FrameImage, parsePng, parseRaw } from "./frames/image";
import { type LayerFrame, type LayerJson, parseLayerFrame } from "./layers/model";
import { ApiError, errorFrom, type Transport, type TransportResponse } from "./transport/types";
import type { AnnotationPayload, FileInfo, FilesResponse, SeriesResponse, TagNode } from "./types";
import type { Window } from "./windowing";

export interface Annotations {
  payload: AnnotationPayload;
  etag: string | null;
}

/** The two stores of boxes (SPEC §5, §12): same payload, same rules, separate routes. */
export type BoxKind = "annotations" | "redactions";

export class Api {
  constructor(readonly transport: Transport) {}

  private async call(
    path: string,
    init?: Parameters<Transport["request"]>[1],
  ): Promise<TransportResponse> {
    const res = await this.transport.request(path, init);
    if (res.status < 200 || res.status >= 300) throw errorFrom(res);
    return res;
  }

  private async json<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.call(path, { signal });
    return JSON.parse(new TextDecoder().decode(res.body)) as T;
  }

  files(): Promise<FilesResponse> {
    return this.json("api/files");
  }

  /** Files grouped into series and stacks (SPEC §9); empty until the scan is complete. */
  series(): Promise<SeriesResponse> {
    return this.json("api/series");
  }

  info(file: number): Promise<FileInfo> {
    return this.json(`api/file/${file}/info`);
  }

  tags(file: number): Promise<TagNode[]> {
    return this.json(`api/file/${file}/tags`);
  }

  async raw(file: number, frame: number, signal?: AbortSignal): Promise<FrameImage> {
    return parseRaw(await this.call(`api/file/${file}/frame/${frame}/raw`, { signal }));
  }

  /** The display PNG, without the display shutter (the viewport lays it over the image);
   *  `window` asks for a linear window, `fullDynamic` for min/max, `reduce` for a picture at
   *  1/2^reduce of each side of a frame of size `full` (served whole when it cannot be). */
  async png(
    file: number,
    frame: number,
    colour: boolean,
    opts: {
      window?: Window;
      fullDynamic?: boolean;
      reduce?: { levels: number; full: { rows: number; columns: number } };
      signal?: AbortSignal;
    } = {},
  ): Promise<FrameImage> {
    const q = new URLSearchParams();
    if (opts.window) {
      q.set("wc", String(opts.window.center));
      q.set("ww", String(opts.window.width));
    }
    if (opts.fullDynamic) q.set("mode", "full_dynamic");
    q.set("shutter", "off");
    if (opts.reduce) q.set("reduce", String(opts.reduce.levels));
    const qs = q.toString();
    const res = await this.call(`api/file/${file}/frame/${frame}${qs ? `?${qs}` : ""}`, {
      signal: opts.signal,
    });
    return parsePng(res, colour, opts.reduce?.full ?? null);
  }

  /** The file's display shutter as a picture to lay over the image (SPEC §12). */
  async shutter(file: number): Promise<ImageBitmap> {
    const res = await this.call(`api/file/${file}/shutter`);
    return createImageBitmap(new Blob([res.body], { type: "image/png" }));
  }

  /** The server's boxes of one kind for a file, and their ETag. */
  async annotations(file: number, kind: BoxKind = "annotations"): Promise<Annotations> {
    const res = await this.call(`api/file/${file}/${kind}`);
    return {
      payload: JSON.parse(new TextDecoder().decode(res.body)) as AnnotationPayload,
      etag: res.headers.etag ?? null,
    };
  }

  async putAnnotations(
    file: number,
    payload: AnnotationPayload,
    etag: string | null,
    kind: BoxKind = "annotations",
  ): Promise<Annotations> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (etag) headers["If-Match"] = etag;
    const res = await this.call(`api/file/${file}/${kind}`, {
      method: "PUT",
      headers,
      body: JSON.stringify(payload),
    });
    return {
      payload: JSON.parse(new TextDecoder().decode(res.body)) as AnnotationPayload,
      etag: res.headers.etag ?? null,
    };
  }

  /** Give every file of `file`'s stack its redaction boxes; the stack's file indices. */
  async copyRedactionsToSeries(file: number): Promise<number[]> {
    const res = await this.call(`api/file/${file}/redactions/series`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    const answer = JSON.parse(new TextDecoder().decode(res.body)) as { file_indices: number[] };
    return answer.file_indices;
  }

  /** Is this a `--mask` session (identifiers replaced in every answer)? */
  async masked(): Promise<boolean> {
    const health = JSON.parse(new TextDecoder().decode((await this.call("api/health")).body));
    return (health as { masked?: boolean }).masked === true;
  }

  /**
   * Layers over the stacks (SPEC §10); 503 until they are read. A `poll` (the page looking for
   * layers added from Python) says so, and does not count as activity for `--timeout`.
   */
  async layers(poll = false): Promise<LayerJson[]> {
    const res = await this.call("api/layers", poll ? { headers: { "X-Dcmview-Poll": "1" } } : {});
    return JSON.parse(new TextDecoder().decode(res.body)) as LayerJson[];
  }

  /** One layer on image `position` of its stack; null when nothing of it lies there (204). */
  async layerFrame(id: string, position: number): Promise<LayerFrame | null> {
    return parseLayerFrame(await this.call(`api/layer/${id}/frame/${position}`));
  }

  async exportCsv(kind: BoxKind = "annotations"): Promise<{ body: ArrayBuffer; filename: string }> {
    const res = await this.call(`api/${kind}/export.csv`);
    const cd = res.headers["content-disposition"] ?? "";
    const m = /filename="([^"]+)"/.exec(cd);
    return { body: res.body, filename: m?.[1] ?? `dcmview-${kind}.csv` };
  }
}

export { ApiError };
