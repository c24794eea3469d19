import type { ParentReference } from '@weft/api';
import type { ParentAttachment } from './route-attach.js';
import type { TranslatedRoute, TranslatedRule } from './route-translate.js';
import type { AttachmentOutcome } from './route-view.js';
import { CONTROLLER_NAME, REASONS, condition, type CompiledCondition, type ParentRefReport, type ResourceStatusReport, type RouteParentStatusReport } from './status.js';

/** What became of one parentRef of a route: how it attached, and (attached) its rules' outcome. */
export interface ParentResult {
  readonly ref: ParentReference;
  readonly attachment: ParentAttachment;
  readonly outcome: AttachmentOutcome | undefined;
}

/**
 * A route's status: per parent (Gateway API `RouteParentStatus`) and in aggregate.
 *
 * - A missing parent or backend Service does not reject the route: it is `Accepted` with
 *   `ResolvedRefs` False naming each missing reference (so resources apply in any order). A
 *   missing backend keeps weight 0: the rule's other backends take its share, and when
 *   none is left the rule's requests get 503 with flag UH.
 * - Rules with values proxies refuse (a regular expression outside the subset they run, a
 *   header filter on `host`, a retry past their limits) are left out: `Accepted` True with reason `UnsupportedValue`, and `PartiallyInvalid` True saying
 *   which fields and why. A mirror to a missing Service is left out of its rule, and named
 *   in `ResolvedRefs` False (`BackendNotFound`).
 * - A rule whose every match is shadowed by an identical match of a route with precedence is
 *   conflicted; a route none of whose rules is in effect on a parent for that reason is
 *   `Accepted` False `Conflicted` there, and in aggregate when that holds on every parent
 *   that exists.
 */
export const routeStatus = (route: TranslatedRoute, parents: readonly ParentResult[]): ResourceStatusReport => {
  const generation = route.route.metadata.generation;
  const resolved = resolvedRefs(route, parents, generation);
  const perParent = parents.map((p) => parentStatus(route, p, resolvedRefs(route, [], generation), generation));
  const existing = perParent.filter((_, i) => !isMissing(parents[i]?.attachment));
  const accepted = existing.map((p) => p.conditions[0]).filter((c): c is CompiledCondition => c !== undefined);
  const rejected = accepted.length > 0 && accepted.every((c) => c.status === 'False');
  const warning = accepted.find((c) => c.status === 'True' && c.reason !== REASONS.Accepted);
  const messages = (list: readonly (CompiledCondition | undefined)[]): string => unique(list.flatMap((c) => (c === undefined || c.message === '' ? [] : [c.message]))).join('; ');
  const aggregate: CompiledCondition[] = [
    rejected
      ? condition('Accepted', false, accepted[0]?.reason ?? REASONS.Conflicted, messages(accepted), generation)
      : condition('Accepted', true, warning?.reason ?? REASONS.Accepted, messages(accepted.filter((c) => c.status === 'True')), generation),
    resolved,
  ];
  const partial = perParent.map((p) => p.conditions.find((c) => c.type === 'PartiallyInvalid'));
  const firstPartial = partial.find((c) => c !== undefined);
  if (firstPartial !== undefined) aggregate.push(condition('PartiallyInvalid', true, firstPartial.reason, messages(partial), generation));
  return { kind: route.route.kind, namespace: route.route.metadata.namespace, name: route.route.metadata.name, conditions: aggregate, parents: perParent };
};

const MISSING_BACKEND_EFFECT = "missing backends keep weight 0: a rule's other backends take their share, and a rule left with none answers 503 (flag UH)";
const MISSING_MIRROR_EFFECT = 'mirrors to missing Services are left out; their rules apply without them';

/** Why a rule is not in the snapshot: what proxies cannot apply yet, and the values they refuse. */
const leftOut = (r: TranslatedRule): string => {
  const reasons = [...(r.unsupported.length === 0 ? [] : [`proxies cannot apply ${r.unsupported.join(', ')} yet`]), ...r.refused];
  return `${r.label} is left out: ${reasons.join('; ')}`;
};

const isMissing = (a: ParentAttachment | undefined): boolean => a?.kind === 'detached' && a.missing;

const unique = (list: readonly string[]): string[] => [...new Set(list)];

const resolvedRefs = (route: TranslatedRoute, parents: readonly ParentResult[], generation: number | undefined): CompiledCondition => {
  const missingParents = parents.flatMap((p, i) => (p.attachment.kind === 'detached' && p.attachment.missing ? [`parentRefs[${i}]: ${p.attachment.message}`] : []));
  const backends = route.missingBackends.length === 0 ? [] : [...route.missingBackends, MISSING_BACKEND_EFFECT];
  const mirrors = route.missingMirrors.length === 0 ? [] : [...route.missingMirrors, MISSING_MIRROR_EFFECT];
  const missing = [...missingParents, ...backends, ...mirrors];
  if (missing.length === 0) return condition('ResolvedRefs', true, REASONS.ResolvedRefs, '', generation);
  return condition('ResolvedRefs', false, missingParents.length > 0 ? REASONS.NoMatchingParent : REASONS.BackendNotFound, missing.join('; '), generation);
};

const parentStatus = (route: TranslatedRoute, p: ParentResult, resolved: CompiledCondition, generation: number | undefined): RouteParentStatusReport => {
  const report = (conditions: CompiledCondition[]): RouteParentStatusReport => ({ parentRef: parentRefReport(p.ref), controllerName: CONTROLLER_NAME, conditions });
  if (p.attachment.kind === 'detached' || p.outcome === undefined) {
    const a = p.attachment.kind === 'detached' ? p.attachment : undefined;
    return report([condition('Accepted', a?.accepted ?? false, a?.reason ?? REASONS.NoMatchingParent, a?.message ?? '', generation), resolved]);
  }
  const { inEffect, conflicted, shadowed } = p.outcome;
  const unsupported = route.rules.filter((r) => r.matches === undefined).map(leftOut);
  const total = route.rules.length;
  if (total > 0 && inEffect === 0) {
    const accepted =
      conflicted.length > 0
        ? condition('Accepted', false, REASONS.Conflicted, [...conflicted, ...unsupported].join('; '), generation)
        : condition('Accepted', true, REASONS.UnsupportedValue, `no rule is in effect: ${unsupported.join('; ')}`, generation);
    return report([accepted, resolved]);
  }
  const skipped = [...unsupported, ...conflicted];
  const reason = unsupported.length > 0 ? REASONS.UnsupportedValue : conflicted.length > 0 || shadowed.length > 0 ? REASONS.Conflicted : REASONS.Accepted;
  if (reason === REASONS.Accepted) return report([condition('Accepted', true, REASONS.Accepted, '', generation), resolved]);
  const summary = skipped.length > 0 ? `${total - inEffect} of ${total} rules are not in effect (see PartiallyInvalid)` : 'some matches are shadowed (see PartiallyInvalid)';
  return report([
    condition('Accepted', true, reason, summary, generation),
    resolved,
    condition('PartiallyInvalid', true, reason, [...skipped, ...shadowed].join('; '), generation),
  ]);
};

const parentRefReport = (ref: ParentReference): ParentRefReport => ({
  group: ref.group,
  kind: ref.kind,
  ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
  name: ref.name,
  ...(ref.sectionName === undefined ? {} : { sectionName: ref.sectionName }),
  ...(ref.port === undefined ? {} : { port: ref.port }),
});
