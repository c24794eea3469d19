import { randomUUID } from 'node:crypto';
import { describeKnownKinds, type AnyResource } from '@weft/api';
import { createLogger, type Logger } from '@weft/core';
import { StoreError, type Store, type StoredItem, type StoreKey } from '../store/index.js';
import { admit, validateStored, type AdmissionContext, type ApplyResult } from './admission.js';
import { writeBatch, type PlannedWrite } from './batch-writer.js';
import { sameJson } from './canonical-json.js';
import type { ConditionInput } from './conditions.js';
import { refreshDependents } from './dependents.js';
import { ManagerError, resourceNotFound, staleResourceVersion } from './errors.js';
import { describeKey, keyString, kindNamed } from './keys.js';
import { DEFAULT_MANAGER_LIMITS, type ManagerLimits } from './limits.js';
import { parseBatch, type ParsedDocument } from './parse-batch.js';
import { referencesOf } from './references.js';
import { asStatusUpdate, nextStatus, type StatusUpdate } from './status-update.js';
import { fromStoredItem, toStoredValue } from './stored-form.js';

/** The part of a pino logger the manager uses. */
export type ManagerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Options of {@link ResourceManager}. */
export interface ResourceManagerOptions {
  readonly store: Store;
  /** Per-document and per-batch limits (default {@link DEFAULT_MANAGER_LIMITS}). */
  readonly limits?: Partial<ManagerLimits>;
  /** The clock for `creationTimestamp` and condition transition times (tests pass a fixed one). */
  readonly now?: () => Date;
  /** New `metadata.uid`s (default: random UUIDs). */
  readonly newUid?: () => string;
  readonly logger?: ManagerLogger;
  /**
   * Recompute the `ResolvedRefs` condition of the resources that refer to a resource when it
   * is created, changed or deleted (default true). The control plane can turn it off once
   * the compiler writes every resource's status after each change.
   */
  readonly refreshDependents?: boolean;
}

/** What an apply did to one document, and the resource as stored (or, in a dry run, as it would be). */
export interface ApplyOutcome {
  readonly result: ApplyResult;
  readonly resource: AnyResource;
}

/** Options of an apply. */
export interface ApplyOptions {
  /** Validate and check preconditions, report what would happen, write nothing. */
  readonly dryRun?: boolean;
}

/** Options of a delete. */
export interface DeleteOptions {
  /** A precondition: delete only if the stored `resourceVersion` is this one (else 409). */
  readonly resourceVersion?: string;
}

/** Resources of one kind, and the store revision they were read at. */
export interface ListOutcome {
  readonly items: AnyResource[];
  readonly revision: number;
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_STATUS_ATTEMPTS = 10;

/** RFC 3339 at second precision, as Kubernetes writes timestamps. */
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The layer above the store (ARCHITECTURE.md, idea 7): the store persists JSON; the manager
 * validates documents against their kind's schema, applies defaults, owns the server-written
 * fields (`uid`, `generation`, `creationTimestamp`, `resourceVersion` = the store's
 * `modRevision`, and `status`), checks cross-references (reported as conditions, not
 * refused), enforces optimistic concurrency and applies batches all or nothing.
 *
 * Concurrency: a client `metadata.resourceVersion` (or a delete's `resourceVersion`) is a
 * precondition, refused with 409 `WEFT_ERR_STORE_CONFLICT` when stale; without one, apply
 * is last-writer-wins (a lost race between read and write is retried with a fresh read,
 * so server-written fields stay consistent). Every write is conditional on the revision it
 * was computed from, so that this holds across control-plane replicas sharing a store.
 */
export class ResourceManager {
  readonly #store: Store;
  readonly #limits: ManagerLimits;
  readonly #now: () => Date;
  readonly #newUid: () => string;
  readonly #logger: ManagerLogger;
  readonly #refreshDependents: boolean;
  /** Dependents refreshes run one at a time, so that an older one never overwrites a newer one. */
  #refreshing: Promise<void> = Promise.resolve();

  constructor(options: ResourceManagerOptions) {
    this.#store = options.store;
    this.#limits = { ...DEFAULT_MANAGER_LIMITS, ...options.limits };
    this.#now = options.now ?? (() => new Date());
    this.#newUid = options.newUid ?? randomUUID;
    this.#logger = options.logger ?? createLogger().child({ component: 'manager' });
    this.#refreshDependents = options.refreshDependents ?? true;
  }

  /** The limits in force. */
  get limits(): ManagerLimits {
    return this.#limits;
  }

  /** Applies one document (create or update); see {@link applyBatch}. */
  async apply(doc: unknown, options: ApplyOptions = {}): Promise<ApplyOutcome> {
    const [outcome] = await this.applyBatch([doc], options);
    if (outcome === undefined) throw new ManagerError('WEFT_ERR_API_INTERNAL', 'apply of one document produced no outcome');
    return outcome;
  }

  /**
   * Applies a batch (one file) all or nothing. First every document is validated (schema,
   * size, no resource twice) and, if any is invalid, nothing is written and the error lists
   * every issue of every document (`WEFT_ERR_API_INVALID_RESOURCE`, 400). Then every
   * `resourceVersion` precondition is checked (409 before anything is written). Then the
   * documents are written in order; if a write fails, the earlier ones are undone (see
   * `batch-writer.ts` for exactly what that guarantees). Returns, per document in order,
   * `created`, `configured` or `unchanged` and the stored resource.
   */
  async applyBatch(docs: readonly unknown[], options: ApplyOptions = {}): Promise<ApplyOutcome[]> {
    const parsed = parseBatch(docs, this.#limits);
    const ctx = await this.#admissionContext(parsed);
    const plans = await this.#plan(parsed, ctx);
    if (options.dryRun === true) return plans.map((p) => ({ result: p.admitted.result, resource: p.admitted.resource }));
    const written = await writeBatch(this.#store, plans, async (doc) => this.#admitOne(doc, ctx, await this.#store.get(doc.key)));
    const changed = written.filter((w) => w.plan.admitted.result !== 'unchanged').map((w) => w.plan.doc.key);
    await this.#afterChange(changed, new Set(parsed.map((d) => keyString(d.key))));
    return written.map((w) => ({ result: w.plan.admitted.result, resource: w.item === undefined ? w.plan.admitted.resource : fromStoredItem(w.item) }));
  }

  /** The resource at `key`, or undefined. */
  async get(key: StoreKey): Promise<AnyResource | undefined> {
    this.#checkKey(key);
    const item = await this.#store.get(key);
    return item === undefined ? undefined : fromStoredItem(item);
  }

  /** Every resource of `kind` (its CamelCase name), in `namespace` or in all namespaces, ordered by namespace and name. */
  async list(kind: string, namespace?: string): Promise<ListOutcome> {
    const k = this.#kind(kind);
    if (k.namespaced && namespace !== undefined) this.#checkLabel('namespace', namespace);
    const filter = k.namespaced ? (namespace === undefined ? { kind: k.kind } : { kind: k.kind, namespace }) : { kind: k.kind, namespace: '' };
    const { items, revision } = await this.#store.list(filter);
    return { items: items.map(fromStoredItem), revision };
  }

  /**
   * Deletes the resource at `key` and returns it as it was. `WEFT_ERR_API_NOT_FOUND` (404) if
   * absent; with `resourceVersion`, `WEFT_ERR_STORE_CONFLICT` (409) if that is not the stored one.
   */
  async delete(key: StoreKey, options: DeleteOptions = {}): Promise<AnyResource> {
    this.#checkKey(key);
    const subject = describeKey(key);
    const rv = options.resourceVersion;
    const current = await this.#store.get(key);
    if (current === undefined) throw resourceNotFound(subject);
    if (rv !== undefined && rv !== String(current.modRevision)) throw staleResourceVersion(subject, rv, String(current.modRevision));
    try {
      const { prevItem } = await this.#store.delete(key, rv === undefined ? undefined : current.modRevision);
      await this.#afterChange([key], new Set());
      return fromStoredItem(prevItem);
    } catch (err) {
      if (err instanceof StoreError && err.code === 'WEFT_ERR_STORE_NOT_FOUND') throw resourceNotFound(subject);
      if (err instanceof StoreError && err.code === 'WEFT_ERR_STORE_CONFLICT') {
        const now = await this.#store.get(key);
        throw staleResourceVersion(subject, rv ?? '', now === undefined ? undefined : String(now.modRevision));
      }
      throw err;
    }
  }

  /**
   * Sets status on the resource at `key` for a control-plane writer (the compiler, the
   * registry): conditions are stamped with `lastTransitionTime` (kept when status, reason
   * and message did not change), the result is validated with the kind's schema, and
   * written conditionally on the revision it was computed from (retried on a race).
   * `generation` does not change. Writes nothing when the status is already so. Returns
   * the resource, or undefined when it does not exist (it was deleted: nothing to report on).
   */
  async setStatus(key: StoreKey, update: StatusUpdate | readonly ConditionInput[]): Promise<AnyResource | undefined> {
    this.#checkKey(key);
    const u = asStatusUpdate(update);
    for (let attempt = 1; ; attempt++) {
      const item = await this.#store.get(key);
      if (item === undefined) return undefined;
      const resource = fromStoredItem(item);
      const candidate = { ...resource, status: nextStatus(resource, u, rfc3339(this.#now())) };
      const value = toStoredValue(validateStored(candidate, describeKey(key)));
      if (sameJson(value, item.value)) return resource;
      try {
        return fromStoredItem(await this.#store.update(key, value, item.modRevision));
      } catch (err) {
        if (err instanceof StoreError && err.code === 'WEFT_ERR_STORE_NOT_FOUND') return undefined;
        if (!(err instanceof StoreError && err.code === 'WEFT_ERR_STORE_CONFLICT') || attempt >= MAX_STATUS_ATTEMPTS) throw err;
      }
    }
  }

  /** Reads what each document replaces, checks every precondition, and admits each. */
  async #plan(docs: readonly ParsedDocument[], ctx: AdmissionContext): Promise<PlannedWrite[]> {
    const currents = await Promise.all(docs.map((d) => this.#store.get(d.key)));
    docs.forEach((d, i) => {
      const current = currents[i];
      const rv = d.resourceVersion;
      if (rv !== undefined && (current === undefined || String(current.modRevision) !== rv)) {
        throw staleResourceVersion(d.subject, rv, current === undefined ? undefined : String(current.modRevision), d.index);
      }
    });
    return docs.map((d, i) => this.#admitOne(d, ctx, currents[i]));
  }

  #admitOne(doc: ParsedDocument, ctx: AdmissionContext, current: StoredItem | undefined): PlannedWrite {
    return { doc, current, admitted: admit(doc, current, { ...ctx, now: rfc3339(this.#now()) }) };
  }

  /**
   * The clock, and which referenced resources exist: those of the batch itself (applied
   * together, so that a file's order does not matter) and those in the store.
   */
  async #admissionContext(docs: readonly ParsedDocument[]): Promise<AdmissionContext> {
    const existing = new Set(docs.map((d) => keyString(d.key)));
    const wanted = new Map<string, StoreKey>();
    for (const d of docs) {
      for (const ref of referencesOf(d.resource)) {
        const k = keyString(ref.key);
        if (!existing.has(k) && LABEL.test(ref.key.name) && LABEL.test(ref.key.namespace)) wanted.set(k, ref.key);
      }
    }
    const found = await Promise.all([...wanted].map(async ([k, key]) => ((await this.#store.get(key)) === undefined ? undefined : k)));
    for (const k of found) if (k !== undefined) existing.add(k);
    return { now: rfc3339(this.#now()), newUid: this.#newUid, exists: (key) => existing.has(keyString(key)) };
  }

  /** Refreshes the dependents of `changed`; a failure is logged, never failing the write that succeeded. */
  async #afterChange(changed: readonly StoreKey[], skip: ReadonlySet<string>): Promise<void> {
    if (!this.#refreshDependents || changed.length === 0) return;
    const run = this.#refreshing.then(async () => {
      try {
        const n = await refreshDependents(this.#store, changed, skip, (key, conditions) => this.setStatus(key, conditions));
        if (n > 0) this.#logger.debug({ changed: changed.map(describeKey), dependents: n }, 'refreshed references of dependents');
      } catch (err) {
        this.#logger.warn({ err, changed: changed.map(describeKey) }, 'could not refresh the references of dependents; their ResolvedRefs may be stale until the next change');
      }
    });
    this.#refreshing = run;
    await run;
  }

  #kind(kind: string): NonNullable<ReturnType<typeof kindNamed>> {
    const k = kindNamed(kind);
    if (k === undefined) throw new ManagerError('WEFT_ERR_API_NOT_FOUND', `unknown kind ${JSON.stringify(kind)}; known kinds: ${describeKnownKinds()}`);
    return k;
  }

  #checkLabel(field: string, value: string): void {
    if (!LABEL.test(value)) {
      throw new ManagerError('WEFT_ERR_API_BAD_REQUEST', `${field} ${JSON.stringify(value)} is not an RFC 1123 label (lowercase letters, digits and "-", at most 63)`, { details: { field } });
    }
  }

  #checkKey(key: StoreKey): void {
    const k = this.#kind(key.kind);
    if (k.namespaced) this.#checkLabel('namespace', key.namespace);
    else if (key.namespace !== '') throw new ManagerError('WEFT_ERR_API_BAD_REQUEST', `${k.kind} is cluster-scoped: it has no namespace`, { details: { field: 'namespace' } });
    this.#checkLabel('name', key.name);
  }
}
