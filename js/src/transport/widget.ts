// Transport over anywidget custom messages (notebook). The request is one JSON message; the
// reply carries status and headers as JSON and the body as one binary buffer, so frames never
// pass through traitlets. Requests are matched by id; each can time out or be aborted.
//
//   viewer -> kernel  {"type": "dcmview:request", "id": n, "method", "path", "headers", "body"}
//   kernel -> viewer  {"type": "dcmview:response", "id": n, "status", "headers"}, [body]

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
}

interface ResponseMessage {
  type: "dcmview:response";
  id: number;
  status: number;
  headers?: Record<string, string>;
}

function isResponse(m: unknown): m is ResponseMessage {
  const r = m as ResponseMessage | null;
  return !!r && r.type === "dcmview:response" && typeof r.id === "number";
}

function toArrayBuffer(view: DataView | undefined): ArrayBuffer {
  if (!view) return new ArrayBuffer(0);
  const { buffer, byteOffset, byteLength } = view;
  if (byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) {
    return buffer;
  }
  return new Uint8Array(buffer, byteOffset, byteLength).slice().buffer;
}

export class WidgetTransport implements Transport {
  readonly description = "notebook kernel";
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly onMessage = (msg: unknown, buffers: DataView[]) => {
    if (!isResponse(msg)) return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers ?? {})) headers[k.toLowerCase()] = String(v);
    p.resolve({ status: msg.status, headers, body: toArrayBuffer(buffers[0]) });
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
        reject(new Error(`The notebook kernel did not answer ${path} in time.`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      init.signal?.addEventListener("abort", () => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        this.model.send({ type: "dcmview:cancel", id });
        reject(new DOMException("Aborted", "AbortError"));
      });
      this.model.send({
        type: "dcmview:request",
        id,
        method: init.method ?? "GET",
        path,
        headers: init.headers ?? {},
        body: init.body ?? null,
      });
    });
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error("The viewer was closed."));
    }
    this.pending.clear();
  }
}
