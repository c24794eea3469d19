// The control plane's store: the contract (`Store`) and its in-process backends.
export type { DeleteResult, ListResult, Store, StoredItem, Watch, WatchEvent } from './store.js';
export { decodeKey, encodeKey, type KeyFilter, type StoreKey } from './key.js';
export { DEFAULT_MAX_VALUE_BYTES, type JsonObject, type JsonPrimitive, type JsonValue } from './json.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type { HistoryLimits } from './history.js';
export type { StoreLogger } from './logger.js';
export type { LocalStoreOptions } from './local-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { FileStore, LOG_FILE, SNAPSHOT_FILE, type FileStoreOptions, type FileStoreStats } from './file-store.js';
