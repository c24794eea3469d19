/** Linkerd's bound: bodies up to 64 KiB are kept to replay. */
export const DEFAULT_MAX_REPLAY_BODY_BYTES = 64 * 1024;

/**
 * Keeps a copy of a request body while it streams upstream, so that a retry can send it
 * again, up to a bound: past `maxBytes` the copy is dropped and the request can no longer
 * be retried (it still streams on as usual). A body is replayable only once it has ended
 * within the bound, because a retry must send the whole of it.
 */
export class ReplayBuffer {
  readonly maxBytes: number;
  #chunks: Uint8Array[] | undefined = [];
  #bytes = 0;
  #ended = false;

  constructor(maxBytes: number = DEFAULT_MAX_REPLAY_BODY_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`replay buffer: maxBytes must be a whole number >= 0 (got ${maxBytes})`);
    this.maxBytes = maxBytes;
  }

  /** Keeps a chunk (the caller must not reuse its memory), or drops the copy past the bound. */
  push(chunk: Uint8Array): void {
    if (this.#ended) return;
    this.#bytes += chunk.byteLength;
    if (this.#chunks === undefined) return;
    if (this.#bytes > this.maxBytes) {
      this.#chunks = undefined;
      return;
    }
    this.#chunks.push(chunk);
  }

  /** The body ended. */
  end(): void {
    this.#ended = true;
  }

  /** Whether the whole body is kept and can be sent again. */
  get replayable(): boolean {
    return this.#ended && this.#chunks !== undefined;
  }

  /** Bytes seen so far (kept or not). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The kept body, chunk by chunk; empty when it is not replayable. */
  chunks(): readonly Uint8Array[] {
    return this.replayable ? (this.#chunks ?? []) : [];
  }
}
