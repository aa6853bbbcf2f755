// Transport over fetch with URLs relative to the page, so the viewer works at "/" and under any
// base path (jupyter-server-proxy, SSH forwards). The token travels in an `X-Dcmview-Token`
// header: behind JupyterHub's proxy an `Authorization` header would be taken by the hub, which
// would try to validate it as a hub token on every request (the server accepts both).

import type { Transport, TransportRequest, TransportResponse } from "./types";

export class HttpTransport implements Transport {
  readonly description: string;

  constructor(
    private readonly token: string | null,
    private readonly base: string = "",
    description = "",
  ) {
    this.description = description;
  }

  async request(path: string, init: TransportRequest = {}): Promise<TransportResponse> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.token) headers["X-Dcmview-Token"] = this.token;
    const res = await fetch(this.base + path, {
      method: init.method ?? "GET",
      headers,
      body: init.body,
      signal: init.signal,
      credentials: "same-origin",
      cache: "no-store",
    });
    const out: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
    return { status: res.status, headers: out, body: await res.arrayBuffer() };
  }
}
