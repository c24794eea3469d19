import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SnapshotMessageSchema, type ProxySnapshot } from '@weft/api/data-plane';

/** A snapshot read back from the cache, with the version the control plane gave it. */
export interface CachedSnapshot {
  readonly version: string;
  readonly snapshot: ProxySnapshot;
}

/** What reading the cache found: a usable snapshot, nothing, or a file that cannot be used (and why). */
export type CacheRead =
  | { readonly kind: 'found'; readonly cached: CachedSnapshot }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unusable'; readonly reason: string };

const errnoCode = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

/**
 * The proxy's copy of the last snapshot it applied from the control plane, so that it can
 * start serving when the control plane is unreachable (it re-syncs once it is back). The
 * file holds the snapshot message as it came on the stream (`{type, version, snapshot}`)
 * and is checked against the same schema when read; a damaged or foreign file is ignored.
 *
 * Writes are atomic: a temporary file in the same directory is written and fsynced, then
 * renamed over the cache, so that a crash leaves the old copy or the new one, never half of
 * one. Saves are serialized and coalesced: while one is being written only the newest
 * waiting snapshot is kept.
 */
export class SnapshotCache {
  /** The cache file. */
  readonly path: string;
  #writing: Promise<void> | undefined;
  #next: CachedSnapshot | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads the cache; never throws. */
  async read(): Promise<CacheRead> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { kind: 'missing' };
      return { kind: 'unusable', reason: `cannot read ${this.path}: ${errnoCode(err) ?? String(err)}` };
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { kind: 'unusable', reason: `${this.path} is not JSON: ${(err as Error).message}` };
    }
    const r = SnapshotMessageSchema.safeParse(doc);
    if (!r.success) return { kind: 'unusable', reason: `${this.path} is not a snapshot message: ${r.error.issues[0]?.message ?? 'invalid'}` };
    return { kind: 'found', cached: { version: r.data.version, snapshot: r.data.snapshot } };
  }

  /**
   * Saves `cached` (replacing any save still waiting); resolves once it, or a newer one,
   * is on disk. Rejects when the write fails: the caller logs it, the proxy keeps running.
   */
  save(cached: CachedSnapshot): Promise<void> {
    this.#next = cached;
    this.#writing ??= this.#drain().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  /** Resolves once the saves accepted so far are on disk (or failed). */
  async flush(): Promise<void> {
    await this.#writing?.catch(() => undefined);
  }

  async #drain(): Promise<void> {
    for (let next = this.#next; next !== undefined; next = this.#next) {
      this.#next = undefined;
      await this.#write(next);
    }
  }

  async #write(cached: CachedSnapshot): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
    const text = `${JSON.stringify({ type: 'snapshot', version: cached.version, snapshot: cached.snapshot })}\n`;
    try {
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // The rename is durable once the directory is synced; a failure here only risks the
    // newest copy after a power loss, which the next sync from the control plane repairs.
    const d = await open(dir, 'r').catch(() => undefined);
    await d?.sync().catch(() => undefined);
    await d?.close();
  }
}
