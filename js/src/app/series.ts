// The series and their stacks (`api/series`, SPEC §9), asked once the file scan is complete
// (before that the list is empty). Tabs scroll files' frames until it arrives, their stacks
// after; a failure leaves them so (retried a few times, more slowly).

import type { Api } from "../api";
import type { SeriesResponse } from "../types";

const RETRY_MS = 1500;
const ATTEMPTS = 5;

export class SeriesLoader {
  private asked = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: Api,
    private readonly arrived: (answer: SeriesResponse) => void,
  ) {}

  /** Ask for the series (once; later calls do nothing). */
  load(): void {
    if (this.asked) return;
    this.asked = true;
    void this.ask(ATTEMPTS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async ask(attempts: number): Promise<void> {
    let answer: SeriesResponse | null = null;
    try {
      answer = await this.api.series();
    } catch {
      answer = null;
    }
    if (this.stopped) return;
    if (answer?.scan_complete) {
      this.arrived(answer);
      return;
    }
    if (attempts > 1) this.timer = setTimeout(() => void this.ask(attempts - 1), RETRY_MS);
  }
}
