import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ProxySnapshotSchema, type ProxySnapshot } from '@weft/api/data-plane';
import { parseDocument, readConfigText, WeftError } from '@weft/core';

/**
 * The snapshot source of `weft proxy --config FILE`: a proxy snapshot in a YAML or JSON
 * file, validated like any Weft configuration, and re-read when the file changes or on an
 * explicit {@link FileSnapshotSource.reload} (the CLI binds SIGHUP to it).
 *
 * It watches the file's directory, not the file: editors and `mv` replace a file by a new
 * inode, which a watch on the old one never reports. Events are debounced, and content
 * already seen (by hash) is ignored, so a save that changes nothing costs nothing.
 */

/** Receives what a watched file yields. Exactly one of them is called per changed content. */
export interface SnapshotHandlers {
  /** A new, valid snapshot. */
  onSnapshot(snapshot: ProxySnapshot): void;
  /**
   * The file changed but cannot be used: `WEFT_ERR_CONFIG_INVALID` (naming file, line and
   * field) or `WEFT_ERR_CONFIG_READ`. The caller keeps its last good snapshot.
   */
  onRejected(error: WeftError): void;
}

/** What one re-read found. */
export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected';

/** Options of {@link FileSnapshotSource}. */
export interface FileSnapshotSourceOptions {
  /** Quiet time after the last file event before re-reading, so a write is read whole. Default 50 ms. */
  readonly debounceMs?: number;
}

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex');

const asWeftError = (err: unknown, file: string): WeftError =>
  err instanceof WeftError
    ? err
    : new WeftError('WEFT_ERR_CONFIG_READ', `${file}: ${err instanceof Error ? err.message : String(err)}`, { file }, { cause: err });

/** A proxy snapshot read from a file, and the changes made to it. */
export class FileSnapshotSource {
  /** The path as given, which messages name. */
  readonly path: string;
  readonly #debounceMs: number;
  /** Hash of the last content read, valid or not: the same content is not reported twice. */
  #lastHash: string | undefined;
  #handlers: SnapshotHandlers | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The read in progress, so that reads never overlap and their outcomes keep file order. */
  #reading: Promise<ReloadOutcome> = Promise.resolve('unchanged');
  #closed = false;

  constructor(path: string, options: FileSnapshotSourceOptions = {}) {
    this.path = path;
    this.#debounceMs = options.debounceMs ?? 50;
  }

  /**
   * Reads and validates the file. Throws `WEFT_ERR_CONFIG_READ` when it cannot be read and
   * `WEFT_ERR_CONFIG_INVALID` (every issue, with line and field) when it is not a valid
   * snapshot. The content read becomes the baseline that later changes are compared with.
   */
  async load(): Promise<ProxySnapshot> {
    const text = await readConfigText(this.path);
    this.#lastHash = hashOf(text);
    return parseDocument(ProxySnapshotSchema, text, this.path);
  }

  /**
   * Starts watching: each change of content calls `onSnapshot` or `onRejected`. Call
   * once, usually after {@link load}; {@link close} stops it.
   */
  watch(handlers: SnapshotHandlers): void {
    if (this.#closed) throw new Error('FileSnapshotSource is closed');
    if (this.#handlers !== undefined) throw new Error('FileSnapshotSource is already watching');
    this.#handlers = handlers;
    const name = basename(this.path);
    this.#watcher = watch(dirname(resolve(this.path)), (_event, filename) => {
      // Some platforms omit the name; then any event in the directory may be ours.
      if (filename === null || filename === name) this.#schedule();
    });
    this.#watcher.on('error', (err) => {
      this.#handlers?.onRejected(
        new WeftError('WEFT_ERR_CONFIG_READ', `${this.path}: watching stopped: ${err.message}`, { file: this.path }, { cause: err }),
      );
    });
  }

  /**
   * Re-reads the file now (SIGHUP). With handlers set by {@link watch}, a changed content
   * is reported to them as a file event would be. Resolves with what the read found;
   * rejects only when a handler throws.
   */
  reload(): Promise<ReloadOutcome> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const read = (): Promise<ReloadOutcome> => this.#read();
    // A handler that threw fails its own reload, not the ones queued after it.
    const next = this.#reading.then(read, read);
    this.#reading = next;
    return next;
  }

  /** Stops watching and drops pending re-reads. A read already running finishes unreported. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reload();
    }, this.#debounceMs);
  }

  async #read(): Promise<ReloadOutcome> {
    if (this.#closed) return 'unchanged';
    let text: string;
    try {
      text = await readConfigText(this.path);
    } catch (err) {
      // A file briefly missing (replaced by rename) is reported; the next event reads it
      // again, and content equal to the last good one is then rightly seen as unchanged.
      return this.#reject(asWeftError(err, this.path));
    }
    const hash = hashOf(text);
    if (hash === this.#lastHash) return 'unchanged';
    this.#lastHash = hash;
    let snapshot: ProxySnapshot;
    try {
      snapshot = parseDocument(ProxySnapshotSchema, text, this.path);
    } catch (err) {
      return this.#reject(asWeftError(err, this.path));
    }
    if (!this.#closed) this.#handlers?.onSnapshot(snapshot);
    return 'applied';
  }

  #reject(error: WeftError): ReloadOutcome {
    if (!this.#closed) this.#handlers?.onRejected(error);
    return 'rejected';
  }
}
