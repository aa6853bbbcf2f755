// Polling of `api/files` while the server scans: the explorer and the status bar grow with each
// answer until the scan is complete. A 401 means the token is missing or wrong; other failures
// are shown and retried more slowly.

import { type Api, ApiError } from "../api";
import type { FilesResponse } from "../types";

const POLL_MS = 700;

export interface PollHandlers {
  files(r: FilesResponse): void;
  /** The server refused the token (polling stops). */
  denied(): void;
  unreachable(message: string): void;
}

export class FilesPoller {
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: Api,
    private readonly on: PollHandlers,
  ) {}

  /**
   * Ask now (or take the answer to a request already sent: `pending`), and again until the scan
   * is complete; resolves after this first answer.
   */
  async poll(pending?: Promise<FilesResponse>): Promise<void> {
    if (this.stopped) return;
    let r: FilesResponse;
    try {
      r = await (pending ?? this.api.files());
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.on.denied();
        return;
      }
      this.on.unreachable(`Server not reachable: ${e instanceof Error ? e.message : String(e)}`);
      this.again(POLL_MS * 3);
      return;
    }
    if (this.stopped) return;
    this.on.files(r);
    if (!r.scan_complete) this.again(POLL_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private again(ms: number): void {
    this.timer = setTimeout(() => void this.poll(), ms);
  }
}
