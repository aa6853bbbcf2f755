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

  /** The display PNG; `window` asks for a linear window, `fullDynamic` for min/max. */
  async png(
    file: number,
    frame: number,
    colour: boolean,
    opts: { window?: Window; fullDynamic?: boolean; signal?: AbortSignal } = {},
  ): Promise<FrameImage> {
    const q = new URLSearchParams();
    if (opts.window) {
      q.set("wc", String(opts.window.center));
      q.set("ww", String(opts.window.width));
    }
    if (opts.fullDynamic) q.set("mode", "full_dynamic");
    const qs = q.toString();
    const res = await this.call(`api/file/${file}/frame/${frame}${qs ? `?${qs}` : ""}`, {
      signal: opts.signal,
    });
    return parsePng(res, colour);
  }

  async annotations(file: number): Promise<Annotations> {
    const res = await this.call(`api/file/${file}/annotations`);
    return {
      payload: JSON.parse(new TextDecoder().decode(res.body)) as AnnotationPayload,
      etag: res.headers.etag ?? null,
    };
  }

  async putAnnotations(
    file: number,
    payload: AnnotationPayload,
    etag: string | null,
  ): Promise<Annotations> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (etag) headers["If-Match"] = etag;
    const res = await this.call(`api/file/${file}/annotations`, {
      method: "PUT",
      headers,
      body: JSON.stringify(payload),
    });
    return {
      payload: JSON.parse(new TextDecoder().decode(res.body)) as AnnotationPayload,
      etag: res.headers.etag ?? null,
    };
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

  async exportCsv(): Promise<{ body: ArrayBuffer; filename: string }> {
    const res = await this.call("api/annotations/export.csv");
    const cd = res.headers["content-disposition"] ?? "";
    const m = /filename="([^"]+)"/.exec(cd);
    return { body: res.body, filename: m?.[1] ?? "dcmview-annotations.csv" };
  }
}

export { ApiError };
