// How a module announces its own changes: it owns a Signal and fires it; others subscribe. The
// owner decides when something changed, so callers never have to remember to say so.

export class Signal<T = void> {
  private readonly listeners = new Set<(value: T) => void>();

  /** Call `fn` on every emit until the returned function is called. */
  subscribe(fn: (value: T) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  emit(value: T): void {
    // A copy: a listener may unsubscribe (or subscribe another) while being called.
    for (const fn of [...this.listeners]) fn(value);
  }
}
