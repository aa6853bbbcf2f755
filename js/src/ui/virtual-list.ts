// A scrolling list of fixed-height rows that keeps only the rows near the visible part in the
// DOM, so 10,000 rows cost what a hundred do. Rows stay the same elements while they remain in
// that window (scrolling moves them, it does not redraw them); new items redraw the window.

import { h } from "./dom";

/** The rows [first, end) to keep in the DOM. */
export interface RowWindow {
  first: number;
  end: number;
}

/**
 * The window of rows to render for a scroll position: the visible rows and `overscan` rows on
 * each side. A zero `height` (a hidden list) counts as `fallbackRows` rows of height.
 */
export function rowWindow(
  scrollTop: number,
  height: number,
  rowPx: number,
  count: number,
  overscan: number,
  fallbackRows = 40,
): RowWindow {
  const visible = height > 0 ? Math.ceil(height / rowPx) : fallbackRows;
  const top = Math.max(0, Math.floor(scrollTop / rowPx));
  return {
    first: Math.max(0, Math.min(top, count - visible) - overscan),
    end: Math.min(count, top + visible + overscan),
  };
}

/** Does `inner` (the rows on screen) sit inside `outer` with `margin` rows to spare? */
export function covers(outer: RowWindow, inner: RowWindow, margin: number, count: number): boolean {
  const lowOk = outer.first === 0 || inner.first - outer.first >= margin;
  const highOk = outer.end === count || outer.end - inner.end >= margin;
  return inner.first >= outer.first && inner.end <= outer.end && lowOk && highOk;
}

export class VirtualList<T> {
  private items: readonly T[] = [];
  private readonly space: HTMLDivElement;
  private readonly rows: HTMLDivElement;
  private shown: RowWindow = { first: 0, end: 0 };
  private readonly drawn = new Map<number, HTMLElement>();

  /**
   * `el` is the scrolling element; `draw` makes the element of one item (a fixed `rowPx` high);
   * `overscan` rows are kept beyond each edge of the visible part.
   */
  constructor(
    readonly el: HTMLElement,
    private readonly rowPx: number,
    private readonly draw: (item: T) => HTMLElement,
    private readonly overscan = 60,
  ) {
    this.rows = h("div", { class: "dcmv-vlist-rows" });
    this.space = h("div", { class: "dcmv-vlist" }, this.rows);
    el.style.setProperty("--dcmv-row", `${rowPx}px`);
    el.addEventListener("scroll", () => this.update(false), { passive: true });
    // A list shown after being hidden, or resized, needs the rows of its new height.
    if (typeof ResizeObserver !== "undefined") {
      const resized = new ResizeObserver(() => this.update(false));
      resized.observe(el);
    }
  }

  /** Show `items` (redraws the rows in the window); the scroll position is kept. */
  setItems(items: readonly T[]): void {
    this.items = items;
    if (this.space.parentNode !== this.el) this.el.replaceChildren(this.space);
    this.space.style.height = `${items.length * this.rowPx}px`;
    this.update(true);
  }

  /** Replace the list by one element (a message), until the next setItems. */
  showInstead(el: HTMLElement): void {
    this.items = [];
    this.drawn.clear();
    this.shown = { first: 0, end: 0 };
    this.rows.replaceChildren();
    this.el.replaceChildren(el);
  }

  /** Scroll the least needed to bring row `i` fully into view. */
  scrollTo(i: number): void {
    const top = i * this.rowPx;
    const height = this.el.clientHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (height > 0 && top + this.rowPx > this.el.scrollTop + height)
      this.el.scrollTop = top + this.rowPx - height;
    this.update(false);
  }

  private update(redraw: boolean): void {
    const count = this.items.length;
    const top = this.el.scrollTop;
    const height = this.el.clientHeight;
    const visible = rowWindow(top, height, this.rowPx, count, 0);
    if (!redraw && covers(this.shown, visible, this.overscan / 4, count)) return;
    const next = rowWindow(top, height, this.rowPx, count, this.overscan);
    const old = this.shown;
    const lo = Math.max(next.first, old.first);
    const hi = Math.min(next.end, old.end);
    this.shown = next;
    this.rows.style.transform = `translateY(${next.first * this.rowPx}px)`;
    if (redraw || lo >= hi) {
      this.drawn.clear();
      this.rows.replaceChildren(...this.drawRange(next.first, next.end));
      return;
    }
    // Keep the rows both windows share; drop and add only at the edges.
    for (let i = old.first; i < lo; i++) this.take(i);
    for (let i = hi; i < old.end; i++) this.take(i);
    this.rows.prepend(...this.drawRange(next.first, lo));
    this.rows.append(...this.drawRange(hi, next.end));
  }

  private drawRange(first: number, end: number): HTMLElement[] {
    const out: HTMLElement[] = [];
    for (let i = first; i < end; i++) {
      const row = this.draw(this.items[i] as T);
      this.drawn.set(i, row);
      out.push(row);
    }
    return out;
  }

  private take(i: number): void {
    this.drawn.get(i)?.remove();
    this.drawn.delete(i);
  }
}
