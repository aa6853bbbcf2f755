// Transport over anywidget custom messages (notebook). This comment is the one description of
// the widget message protocol; the kernel side is `dcmview/widget.py` (`Viewer._on_message`,
// `request_from_message`, `response_messages`), and the view state synced as traitlets is in
// `../model-sync.ts`.
//
// A request is what the HTTP transport would fetch, so the kernel hands it to the API router
// (`dcmview/api.py`) unchanged. The reply carries status and headers as JSON and the body as
// binary buffers, so frames never pass through traitlets.
//
//   viewer -> kernel  {"type": "dcmview:request", "id": n, "method": "GET"|"PUT",
//                      "path": "api/file/0/frame/3/raw?x=y", "headers": {...}, "body": str|null}
//                     {"type": "dcmview:requests", "requests": [request, ...]}
//                     {"type": "dcmview:cancel", "id": n}
//   kernel -> viewer  {"type": "dcmview:response", "id": n, "status": 200,
//                      "headers": {"X-Frame-Rows": "512", ...}, "part": k, "parts": count}
//                     buffers: [body part k]
//
// - `path` is relative to the server root, with its query string; header names in any case.
// - Requests made within BATCH_MS go in one "dcmview:requests" message: the kernel publishes
//   "busy" and "idle" for every message it gets, and the notebook page handles those too.
// - Every message stays under 4 MB, so a large body (a mammography frame) arrives in parts,
//   in any order, joined here by `part`; "headers" come with part 0. Without "part"/"parts"
//   the body is one buffer.
// - Requests are matched by `id`. "dcmview:cancel" is sent for an aborted request already sent;
//   the kernel drops it if it has not started. The viewer gives up on a request after 60 s.

import type { Transport, TransportRequest, TransportResponse } from "./types";

export interface MessageModel {
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(event: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void;
  off(event: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void;
}

interface Pending {
  resolve: (r: TransportResponse) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  parts: (Uint8Array | undefined)[];
  status: number;
  headers: Record<string, string>;
}

interface ResponseMessage {
  type: "dcmview:response";
  id: number;
  status: number;
  headers?: Record<string, string>;
  part?: number;
  parts?: number;
}

function isResponse(m: unknown): m is ResponseMessage {
  const r = m as ResponseMessage | null;
  return !!r && r.type === "dcmview:response" && typeof r.id === "number";
}

function join(parts: (Uint8Array | undefined)[]): ArrayBuffer {
  if (parts.length === 1 && parts[0]) return parts[0].slice().buffer;
  const out = new Uint8Array(parts.reduce((n, p) => n + (p?.byteLength ?? 0), 0));
  let at = 0;
  for (const p of parts) {
    if (!p) continue;
    out.set(p, at);
    at += p.byteLength;
  }
  return out.buffer;
}

function toBytes(view: DataView | undefined): Uint8Array {
  if (!view) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

// Requests made within this many milliseconds go to the kernel in one message.
const BATCH_MS = 8;

export class WidgetTransport implements Transport {
  readonly description = "notebook kernel";
  // Measured in JupyterLab (bench/widget.py, 2 cores): 4 in flight played a 512² cine at
  // 18 fps, 8 at 21.6 fps, 16 no better.
  readonly parallel = 8;
  private nextId = 1;
  private readonly outbox: { id: number; [field: string]: unknown }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly onMessage = (msg: unknown, buffers: DataView[]) => {
    if (!isResponse(msg)) return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    const count = Math.max(1, msg.parts ?? 1);
    const index = msg.part ?? 0;
    if (p.parts.length !== count) p.parts = new Array(count).fill(undefined);
    p.parts[index] = toBytes(buffers[0]);
    if (msg.headers) {
      for (const [k, v] of Object.entries(msg.headers)) p.headers[k.toLowerCase()] = String(v);
      p.status = msg.status;
    }
    if (p.parts.some((x) => x === undefined)) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    p.resolve({ status: p.status || msg.status, headers: p.headers, body: join(p.parts) });
  };

  constructor(
    private readonly model: MessageModel,
    private readonly timeoutMs = 60_000,
  ) {
    model.on("msg:custom", this.onMessage);
  }

  request(path: string, init: TransportRequest = {}): Promise<TransportResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (init.signal?.aborted) {
        reject(new DOMException("Aborted", "AbortError"));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            "The notebook kernel is not answering: it may have stopped, restarted or be busy. " +
              "Re-run the cell that shows the viewer.",
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, parts: [], status: 0, headers: {} });
      init.signal?.addEventListener("abort", () => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        const queued = this.outbox.findIndex((m) => m.id === id);
        if (queued >= 0) this.outbox.splice(queued, 1);
        else this.model.send({ type: "dcmview:cancel", id });
        reject(new DOMException("Aborted", "AbortError"));
      });
      this.outbox.push({
        type: "dcmview:request",
        id,
        method: init.method ?? "GET",
        path,
        headers: init.headers ?? {},
        body: init.body ?? null,
      });
      if (this.outbox.length === 1) setTimeout(() => this.flush(), BATCH_MS);
    });
  }

  /** Send the requests made in the last few milliseconds, several in one message. */
  private flush(): void {
    const batch = this.outbox.splice(0);
    if (batch.length === 1) this.model.send(batch[0]);
    else if (batch.length > 1) this.model.send({ type: "dcmview:requests", requests: batch });
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMessage);
    this.outbox.length = 0;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error("The viewer was closed."));
    }
    this.pending.clear();
  }
}
