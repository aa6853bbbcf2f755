import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type MessageModel, WidgetTransport } from "../src/transport/widget";

class FakeModel implements MessageModel {
  sent: unknown[] = [];
  private cb: ((msg: unknown, buffers: DataView[]) => void) | null = null;
  send(content: unknown): void {
    this.sent.push(content);
  }
  on(_e: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void {
    this.cb = cb;
  }
  off(): void {
    this.cb = null;
  }
  reply(msg: unknown, buffers: DataView[] = []): void {
    this.cb?.(msg, buffers);
  }
}

/** Until the transport has sent what it batches (a few milliseconds, on the fake clock). */
const sent = () => vi.advanceTimersByTimeAsync(30);

describe("widget transport", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a request message and resolves with the matching reply and its buffer", async () => {
    const model = new FakeModel();
    const t = new WidgetTransport(model);
    const p = t.request("api/file/0/frame/0/raw");
    await sent();
    const req = model.sent[0] as { id: number; path: string; method: string };
    expect(req).toMatchObject({
      type: "dcmview:request",
      path: "api/file/0/frame/0/raw",
      method: "GET",
    });
    const bytes = new Uint8Array([9, 8, 7, 6]);
    model.reply({ type: "dcmview:response", id: req.id + 100, status: 500 });
    model.reply(
      { type: "dcmview:response", id: req.id, status: 200, headers: { "X-Frame-Rows": "2" } },
      [new DataView(bytes.buffer, 1, 2)],
    );
    const res = await p;
    expect(res.status).toBe(200);
    expect(res.headers["x-frame-rows"]).toBe("2");
    expect(Array.from(new Uint8Array(res.body))).toEqual([8, 7]);
  });

  it("times out, and rejects pending requests on dispose", async () => {
    const model = new FakeModel();
    const t = new WidgetTransport(model, 60_000);
    let settled = false;
    const late = expect(
      t.request("api/files").finally(() => {
        settled = true;
      }),
    ).rejects.toThrow(/not answering/);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(model.sent).toHaveLength(1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await late;
    const p = t.request("api/files");
    t.dispose();
    await expect(p).rejects.toThrow(/closed/);
  });

  it("cancels on abort", async () => {
    const model = new FakeModel();
    const t = new WidgetTransport(model);
    const ctrl = new AbortController();
    const p = t.request("api/files", { signal: ctrl.signal });
    await sent();
    ctrl.abort();
    await expect(p).rejects.toThrow(/Aborted/);
    expect(model.sent[1]).toMatchObject({ type: "dcmview:cancel" });
  });

  it("drops a request aborted before it was sent, and sends the others together", async () => {
    const model = new FakeModel();
    const t = new WidgetTransport(model);
    const ctrl = new AbortController();
    const first = t.request("api/file/0/frame/1/raw");
    const dropped = t.request("api/file/0/frame/2/raw", { signal: ctrl.signal });
    const third = t.request("api/file/0/frame/3/raw");
    ctrl.abort();
    await expect(dropped).rejects.toThrow(/Aborted/);
    await sent();
    expect(model.sent).toHaveLength(1);
    const batch = model.sent[0] as { type: string; requests: { id: number; path: string }[] };
    expect(batch.type).toBe("dcmview:requests");
    expect(batch.requests.map((r) => r.path)).toEqual([
      "api/file/0/frame/1/raw",
      "api/file/0/frame/3/raw",
    ]);
    for (const r of batch.requests) {
      model.reply({ type: "dcmview:response", id: r.id, status: 200 }, [
        new DataView(new ArrayBuffer(1)),
      ]);
    }
    expect((await first).status).toBe(200);
    expect((await third).status).toBe(200);
  });

  it("joins a body sent in parts, whatever their order", async () => {
    const model = new FakeModel();
    const t = new WidgetTransport(model);
    const p = t.request("api/file/0/frame/0/raw");
    await sent();
    const id = (model.sent[0] as { id: number }).id;
    const part = (k: number, bytes: number[], headers?: Record<string, string>) =>
      model.reply({ type: "dcmview:response", id, status: 200, part: k, parts: 3, headers }, [
        new DataView(new Uint8Array(bytes).buffer),
      ]);
    part(2, [7, 8]);
    part(0, [1, 2, 3], { "X-Frame-Rows": "4" });
    let done = false;
    void p.then(() => {
      done = true;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    part(1, [4, 5, 6]);
    const res = await p;
    expect(res.status).toBe(200);
    expect(res.headers["x-frame-rows"]).toBe("4");
    expect(Array.from(new Uint8Array(res.body))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
