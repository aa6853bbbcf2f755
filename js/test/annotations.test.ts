import { describe, expect, it } from "vitest";
import { AnnotationStore } from "../src/annotations";
import { Api } from "../src/api";
import type { AnnotationPayload } from "../src/types";
import { FakeTransport, json } from "./transport";

/** A server holding one file's annotations with versioned ETags, like the real one. */
function server() {
  let payload: AnnotationPayload = { num_roi: 0, roi_coords: [], roi_frames: [] };
  let version = 1;
  const gate: { hold: Promise<void> | null } = { hold: null };
  const t = new FakeTransport(async (path, init) => {
    if (path !== "api/file/0/annotations") return json(404, { code: "not_found", error: "no" });
    if (init.method === "PUT") {
      if (gate.hold) await gate.hold;
      const headers = Object.fromEntries(
        Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      if (headers["content-type"] !== "application/json")
        return json(415, { code: "unsupported_media_type", error: "" });
      if (headers["if-match"] && headers["if-match"] !== `"v${version}"`) {
        return json(412, { code: "precondition_failed", error: "changed" });
      }
      payload = JSON.parse(init.body ?? "{}") as AnnotationPayload;
      version++;
    }
    return json(200, payload, { etag: `"v${version}"` });
  });
  return {
    t,
    gate,
    get payload() {
      return payload;
    },
    bump(p: AnnotationPayload) {
      payload = p;
      version++;
    },
  };
}

describe("annotation store", () => {
  it("PUTs the whole list as JSON with the ETag of the last GET", async () => {
    const s = server();
    const store = new AnnotationStore(new Api(s.t));
    await store.load(0);
    store.set(0, [{ box: [1, 2, 3, 4], frames: [] }]);
    expect(store.state(0)).toBe("saving");
    await store.flush();
    expect(store.state(0)).toBe("saved");
    const put = s.t.calls.find((c) => c.init.method === "PUT")!;
    expect(put.init.headers?.["If-Match"]).toBe('"v1"');
    expect(put.init.headers?.["Content-Type"]).toBe("application/json");
    expect(s.payload).toEqual({ num_roi: 1, roi_coords: [[1, 2, 3, 4]], roi_frames: [[]] });
  });

  it("sends edits made during a save after it, with the new ETag", async () => {
    const s = server();
    const store = new AnnotationStore(new Api(s.t));
    await store.load(0);
    let release = () => {};
    s.gate.hold = new Promise((r) => {
      release = r;
    });
    store.set(0, [{ box: [1, 2, 3, 4], frames: [] }]);
    store.set(0, [{ box: [5, 6, 7, 8], frames: [0] }]);
    expect(store.hasPending()).toBe(true);
    s.gate.hold = null;
    release();
    await store.flush();
    const puts = s.t.calls.filter((c) => c.init.method === "PUT");
    expect(puts).toHaveLength(2);
    expect(puts[1]!.init.headers?.["If-Match"]).toBe('"v2"');
    expect(s.payload.roi_coords).toEqual([[5, 6, 7, 8]]);
    expect(store.hasPending()).toBe(false);
  });

  it("reloads the server's copy on 412", async () => {
    const s = server();
    const store = new AnnotationStore(new Api(s.t));
    await store.load(0);
    s.bump({ num_roi: 1, roi_coords: [[9, 9, 10, 10]], roi_frames: [[]] });
    store.set(0, [{ box: [1, 2, 3, 4], frames: [] }]);
    await store.flush();
    expect(store.rois(0)).toEqual([{ box: [9, 9, 10, 10], frames: [] }]);
    expect(store.notice).toMatch(/reloaded/);
    expect(store.state(0)).toBe("saved");
  });

  it("keeps failed edits unsaved until a retry succeeds", async () => {
    let fail = true;
    const s = server();
    const t = new FakeTransport((path, init) =>
      fail && init.method === "PUT"
        ? json(500, { code: "error", error: "disk full" })
        : s.t.request(path, init),
    );
    const store = new AnnotationStore(new Api(t));
    await store.load(0);
    store.set(0, [{ box: [1, 2, 3, 4], frames: [] }]);
    await store.flush();
    expect(store.state(0)).toBe("failed");
    expect(store.error(0)).toBe("disk full");
    expect(store.hasPending()).toBe(true);
    fail = false;
    store.retry();
    await store.flush();
    expect(store.state(0)).toBe("saved");
    expect(s.payload.num_roi).toBe(1);
  });

  it("keeps redaction boxes on their own routes", async () => {
    const seen: string[] = [];
    let payload: AnnotationPayload = { num_roi: 0, roi_coords: [], roi_frames: [] };
    const t = new FakeTransport((path, init) => {
      seen.push(`${init.method ?? "GET"} ${path}`);
      if (init.method === "PUT") payload = JSON.parse(init.body ?? "{}") as AnnotationPayload;
      return json(200, payload, { etag: '"r1"' });
    });
    const store = new AnnotationStore(new Api(t), "redactions");
    await store.load(3);
    store.set(3, [{ box: [1, 2, 3, 4], frames: [] }]);
    await store.flush();
    expect(seen).toEqual(["GET api/file/3/redactions", "PUT api/file/3/redactions"]);
    expect(payload.roi_frames).toEqual([[]]);
  });
});
