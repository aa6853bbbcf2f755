// The one seam between the viewer and where its data comes from (DESIGN.md): an HTTP server or
// a notebook kernel. UI modules receive a Transport and never know which one it is.

export interface TransportRequest {
  method?: "GET" | "PUT";
  /** Header names in any case. */
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: ArrayBuffer;
}

export interface Transport {
  /** `path` is relative to the server root, e.g. "api/file/0/info" (never starts with "/"). */
  request(path: string, init?: TransportRequest): Promise<TransportResponse>;
  /** Short words for the status bar, e.g. "127.0.0.1:8765" or "notebook kernel". */
  readonly description: string;
  /**
   * How many frame loads to keep in flight (default 4: HTTP/1.1 has 6 connections a host, and
   * tags or info requests must not wait behind frames). A transport with a long round trip
   * and no connection limit (the kernel's messages) keeps more in flight to hold the cine rate.
   */
  readonly parallel?: number;
  /** Release resources (pending requests are rejected). */
  dispose?(): void;
}

/** An API error as the server reports it: `{"code", "error"}` with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Turn a non-2xx response into an ApiError, reading the JSON error body when there is one. */
export function errorFrom(res: TransportResponse): ApiError {
  let code = `http_${res.status}`;
  let message = `The server answered ${res.status}.`;
  try {
    const j = JSON.parse(new TextDecoder().decode(res.body)) as { code?: unknown; error?: unknown };
    if (typeof j.code === "string") code = j.code;
    if (typeof j.error === "string") message = j.error;
  } catch {
    // Not JSON (e.g. a proxy's HTML error page): keep the generic text.
  }
  return new ApiError(res.status, code, message);
}
