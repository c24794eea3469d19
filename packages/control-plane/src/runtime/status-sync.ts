import type { AnyResource, Condition } from '@weft/api';
import type { Logger } from '@weft/core';
import type { CompiledCondition, ResourceStatusReport, RouteParentStatusReport } from '../compile/index.js';
import type { ConditionInput, StatusUpdate } from '../manager/index.js';
import type { StoreKey } from '../store/index.js';

/** The part of the resource manager status writes go through (`ResourceManager` fits). */
export interface StatusManager {
  setStatus(key: StoreKey, update: StatusUpdate): Promise<unknown>;
}

/** Condition types the compiler owns: it sets them, and drops `PartiallyInvalid` when it no longer applies. */
const OWNED = new Set(['Accepted', 'ResolvedRefs', 'PartiallyInvalid']);

interface StoredStatus {
  readonly conditions?: readonly Condition[];
  readonly parents?: readonly { readonly parentRef: object; readonly controllerName: string; readonly conditions: readonly Condition[] }[];
}

/** A condition without its time, as comparable text. */
const bare = (c: ConditionInput): string =>
  JSON.stringify([c.type, c.status, c.reason, c.message ?? '', c.observedGeneration ?? null]);

const bareList = (list: readonly ConditionInput[]): string => JSON.stringify(list.map(bare).sort());

const bareParents = (list: readonly { parentRef: object; controllerName: string; conditions: readonly ConditionInput[] }[]): string =>
  JSON.stringify(list.map((p) => [JSON.stringify(Object.entries(p.parentRef).sort()), p.controllerName, bareList(p.conditions)]));

const asInput = (c: Condition | CompiledCondition): ConditionInput => ({
  type: c.type,
  status: c.status,
  reason: c.reason,
  message: c.message,
  ...(c.observedGeneration === undefined ? {} : { observedGeneration: c.observedGeneration }),
});

/**
 * Writes the compiler's statuses back to the resources, through the manager (which stamps
 * `lastTransitionTime`: the compiler has no clock). Only resources whose conditions (or a
 * route's per-parent statuses) differ from what is stored, times aside, are written; writes
 * are serialized per resource, the newest waiting one superseding older ones.
 */
export class StatusSync {
  readonly #manager: StatusManager;
  readonly #log: Logger;
  readonly #waiting = new Map<string, StatusUpdate & { key: StoreKey }>();
  readonly #running = new Map<string, Promise<void>>();
  /** What is being written per resource, so that compiles before the cache catches up do not write it again. */
  readonly #written = new Map<string, string>();

  constructor(manager: StatusManager, logger: Logger) {
    this.#manager = manager;
    this.#log = logger.child({ component: 'status-sync' });
  }

  /** Writes every report whose status differs from the stored resource's (`current` reads the cache). */
  sync(reports: readonly ResourceStatusReport[], current: (kind: string, namespace: string, name: string) => AnyResource | undefined): void {
    for (const report of reports) {
      const namespace = report.namespace ?? '';
      const resource = current(report.kind, namespace, report.name);
      if (resource === undefined) continue;
      const stored = (resource.status ?? {}) as StoredStatus;
      const kept = (stored.conditions ?? []).filter((c) => !OWNED.has(c.type)).map(asInput);
      const conditions = [...report.conditions.map(asInput), ...kept];
      const parents = report.parents?.map((p: RouteParentStatusReport) => ({ parentRef: p.parentRef, controllerName: p.controllerName, conditions: p.conditions.map(asInput) }));
      const want = `${bareList(conditions)}|${parents === undefined ? '' : bareParents(parents)}`;
      const have = `${bareList((stored.conditions ?? []).map(asInput))}|${parents === undefined ? '' : bareParents((stored.parents ?? []).map((p) => ({ ...p, conditions: p.conditions.map(asInput) })))}`;
      const id = `${report.kind}/${namespace}/${report.name}`;
      if (want === have || this.#written.get(id) === want) continue;
      this.#written.set(id, want);
      this.#enqueue(id, { key: { kind: report.kind, namespace, name: report.name }, conditions, mode: 'replace', ...(parents === undefined ? {} : { parents }) });
    }
  }

  /** Resolves once the writes accepted so far are done. */
  async flush(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  #enqueue(id: string, update: StatusUpdate & { key: StoreKey }): void {
    this.#waiting.set(id, update);
    if (this.#running.has(id)) return;
    const run = (async () => {
      for (let u = this.#waiting.get(id); u !== undefined; u = this.#waiting.get(id)) {
        this.#waiting.delete(id);
        const { key, ...rest } = u;
        try {
          await this.#manager.setStatus(key, rest);
        } catch (err) {
          this.#log.warn({ err, resource: id }, 'could not write a status');
        }
      }
    })().finally(() => {
      this.#running.delete(id);
      this.#written.delete(id);
    });
    this.#running.set(id, run);
  }
}
