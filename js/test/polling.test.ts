import { describe, expect, it } from "vitest";
import { Api } from "../src/api";
import { FilesPoller } from "../src/app/polling";
import type { FilesResponse } from "../src/types";
import { FakeTransport, json } from "./transport";

const complete = { files: [], scan_complete: true } as unknown as FilesResponse;

describe("files polling", () => {
  it("takes the first answer from a request sent before the viewer was built", async () => {
    const transport = new FakeTransport(() => json(200, complete));
    const api = new Api(transport);
    const seen: FilesResponse[] = [];
    const poller = new FilesPoller(api, {
      files: (r) => seen.push(r),
      denied: () => undefined,
      unreachable: () => undefined,
    });
    const pending = api.files();
    await poller.poll(pending);
    expect(seen).toHaveLength(1);
    expect(transport.calls.map((c) => c.path)).toEqual(["api/files"]);
  });

  it("reports a refused token of the early request as denied", async () => {
    const api = new Api(new FakeTransport(() => json(401, { code: "unauthorized", error: "no" })));
    let denied = false;
    const poller = new FilesPoller(api, {
      files: () => undefined,
      denied: () => {
        denied = true;
      },
      unreachable: () => undefined,
    });
    await poller.poll(api.files());
    expect(denied).toBe(true);
  });
});
