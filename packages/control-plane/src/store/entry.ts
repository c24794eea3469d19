import { decodeValue } from './json.js';
import { decodeKey } from './key.js';
import type { StoredItem } from './store.js';

/**
 * The store's internal, immutable form of an item: the value is kept as its JSON text, so
 * that it is copied by construction (each reader parses its own) and costs one string.
 */
export interface Entry {
  /** Encoded key, `kind/namespace/name`. */
  readonly key: string;
  readonly json: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** One mutation, as applied to the keyspace, remembered in history and written to the log. */
export type Mutation =
  | { readonly type: 'put'; readonly revision: number; readonly entry: Entry }
  | { readonly type: 'delete'; readonly revision: number; readonly key: string; readonly prev: Entry };

/** A reader's copy of `entry`. */
export const toItem = (entry: Entry): StoredItem => ({
  key: decodeKey(entry.key),
  value: decodeValue(entry.json),
  createRevision: entry.createRevision,
  modRevision: entry.modRevision,
});

/** Roughly how many bytes of memory a mutation keeps alive, for bounding history. */
export const mutationWeight = (m: Mutation): number => 64 + 2 * (m.type === 'put' ? m.entry.json.length : m.prev.json.length);
