import type { Transport, TransportRequest, TransportResponse } from "../src/transport/types";

export type Handler = (
  path: string,
  init: TransportRequest,
) => TransportResponse | Promise<TransportResponse>;

/** A Transport answered by a function, recording every request. */
export class FakeTransport implements Transport {
  readonly description = "fake";
  readonly calls: { path: string; init: TransportRequest }[] = [];
  constructor(private readonly handler: Handler) {}
  async request(path: string, init: TransportRequest = {}): Promise<TransportResponse> {
    this.calls.push({ path, init });
    return this.handler(path, init);
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): TransportResponse {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: new TextEncoder().encode(JSON.stringify(body)).buffer as ArrayBuffer,
  };
}
