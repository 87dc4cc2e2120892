/** A one-consumer queue of step events between the scheduler (which pushes) and a generation's reader. */

export class EventChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | undefined;
  private ended = false;
  private error: { cause: unknown } | undefined;
  /** Set when the reader stops reading before the end (a `break`, a `return()`): the producer should stop. */
  abandoned = false;

  push(item: T): void {
    if (this.ended) return;
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w.resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  close(): void {
    this.finish(undefined);
  }

  fail(cause: unknown): void {
    this.finish({ cause });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        this.abandoned = true;
        this.items.length = 0;
        this.finish(undefined);
        return { value: undefined, done: true };
      },
    };
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.error) return Promise.reject(this.error.cause);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private finish(error: { cause: unknown } | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const w = this.waiting;
    this.waiting = undefined;
    if (!w) return;
    if (error) w.reject(error.cause);
    else w.resolve({ value: undefined, done: true });
  }
}
