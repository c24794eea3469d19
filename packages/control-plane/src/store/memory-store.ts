import type { Mutation } from './entry.js';
import { LocalStore, type LocalStoreOptions } from './local-store.js';
import { storeLogger } from './logger.js';

/** Options of `MemoryStore`. */
export type MemoryStoreOptions = LocalStoreOptions;

/**
 * A `Store` held in memory only, for tests and for tools that need a scratch store. Same
 * contract as the file store, minus durability: a write commits as soon as it is checked.
 */
export class MemoryStore extends LocalStore {
  constructor(options: MemoryStoreOptions = {}) {
    super({ ...options, logger: storeLogger(options.logger) });
  }

  protected persist(m: Mutation): Promise<void> {
    this.keyspace.commit([m]);
    return Promise.resolve();
  }

  protected shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
