import type { AnyResource } from '@weft/api';
import type { JsonObject, StoredItem } from '../store/index.js';

/**
 * The form in which resources are stored: the validated resource with its defaults, its
 * server-written metadata (`uid`, `generation`, `creationTimestamp`) and its status, but
 * without `metadata.resourceVersion`, which is the store item's `modRevision` and is added
 * on every read. Keeping it out of the value means a value can be written back verbatim
 * (a rollback) without carrying a version that no longer exists.
 */

/** A plain JSON copy of `value` (drops `undefined` properties, as the store would). */
export const toJsonObject = (value: object): JsonObject => JSON.parse(JSON.stringify(value)) as JsonObject;

/** The stored value of `resource`: a JSON copy without `metadata.resourceVersion`. */
export const toStoredValue = (resource: AnyResource | JsonObject): JsonObject => {
  const copy = toJsonObject(resource);
  const meta = copy['metadata'];
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) delete meta['resourceVersion'];
  return copy;
};

/**
 * The resource a stored value holds, with `metadata.resourceVersion` set to `resourceVersion`
 * (omitted when undefined: a dry run's preview of a resource not yet created). The value
 * was validated before it was written, so it is trusted here.
 */
export const toResource = (value: JsonObject, resourceVersion: string | undefined): AnyResource => {
  const copy = toJsonObject(value);
  const meta = copy['metadata'];
  if (resourceVersion !== undefined && meta !== null && typeof meta === 'object' && !Array.isArray(meta)) meta['resourceVersion'] = resourceVersion;
  return copy as unknown as AnyResource;
};

/** The resource a store item holds; its `resourceVersion` is the item's `modRevision`. */
export const fromStoredItem = (item: StoredItem): AnyResource => toResource(item.value, String(item.modRevision));
