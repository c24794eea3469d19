interface Queued<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit: items submitted while a batch is being written (and fsynced) wait and go
 * together in the next batch, so N concurrent writers cost about two fsyncs, not N, while a
 * lone writer still goes out at once (one fsync per write, no timer). Batches are written one at a time, in submission order.
 *
 * If writing a batch fails, that batch and everything queued behind it are rejected with
 * the error, and so is every later submission: after a failed fsync the file's contents are
 * unknown (the kernel may have dropped the dirty pages), so the only safe way on is to reopen
 * and recover from what is really on disk.
 */
export class GroupCommitter<T> {
  readonly #write: (batch: T[]) => Promise<void>;
  readonly #afterBatch: (() => Promise<void>) | undefined;
  #queue: Queued<T>[] = [];
  #running = false;
  #failure: { error: unknown } | undefined;
  #idleWaiters: (() => void)[] = [];

  /**
   * @param write writes and fsyncs one batch; the batch's submitters are resolved when it resolves.
   * @param afterBatch runs between batches, with nothing in flight (log compaction); must not throw.
   */
  constructor(write: (batch: T[]) => Promise<void>, afterBatch?: () => Promise<void>) {
    this.#write = write;
    this.#afterBatch = afterBatch;
  }

  /** Resolves once `item` was written in a batch; rejects if that batch (or an earlier one) failed. */
  submit(item: T): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure.error);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) void this.#run();
    });
  }

  /** Resolves when everything submitted so far has been written (or rejected). */
  drain(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          await this.#write(batch.map((q) => q.item));
        } catch (error) {
          this.#failure = { error };
          for (const q of [...batch, ...this.#queue]) q.reject(error);
          this.#queue = [];
          return;
        }
        for (const q of batch) q.resolve();
        if (this.#afterBatch !== undefined) await this.#afterBatch();
        // One turn of the event loop lets the writers just resolved submit their next write,
        // so that it joins the next batch instead of waiting a whole fsync for the one after.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#running = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
