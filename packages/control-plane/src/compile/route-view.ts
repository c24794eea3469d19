import type { BackendRef, RouteRule, ServiceConfig } from '@weft/api';
import { deepFreeze } from './freeze.js';
import { withResilience, type RuleResilience } from './route-resilience.js';
import { contentHash } from './hash.js';
import type { MeshService } from './service-index.js';
import { cmp } from './status.js';
import { compareMatches, describeMatch, matchKey } from './route-precedence.js';
import type { SnapshotMatch, TranslatedRoute, TranslatedRule } from './route-translate.js';

/**
 * A Service as one kind of caller sees it: the snapshot's `ServiceConfig` (ports and routes
 * in precedence order), its content hash, and the services whose endpoints its routes use.
 * Built once per mesh context and shared by every proxy that calls the Service.
 */
export interface ServiceView {
  readonly config: ServiceConfig;
  /** Content hash of `config`: the Service's routing inputs, resolved. */
  readonly hash: string;
  /** Keys of the services whose endpoints a caller needs, sorted. */
  readonly endpointServices: readonly string[];
}

/** One route attached to the Service through one of its parentRefs. */
export interface RouteAttachment {
  readonly route: TranslatedRoute;
  readonly parentIndex: number;
}

/** What became of an attached route's rules in the view. */
export interface AttachmentOutcome {
  readonly attachment: RouteAttachment;
  /** Rules in effect (some match of theirs survived). */
  readonly inEffect: number;
  /** Rules every match of which was shadowed by an identical match with precedence. */
  readonly conflicted: readonly string[];
  /** Matches shadowed in rules that stay in effect through other matches. */
  readonly shadowed: readonly string[];
}

interface Entry {
  readonly rank: number;
  readonly att: RouteAttachment;
  readonly rule: TranslatedRule;
  readonly matchIndex: number;
  readonly match: SnapshotMatch;
}

/** Route order for ties (Gateway API): oldest `creationTimestamp`, then `namespace/name`, then kind. */
const compareRoutes = (a: TranslatedRoute, b: TranslatedRoute): number => {
  const t = (r: TranslatedRoute): number => {
    const ts = r.route.metadata.creationTimestamp;
    return ts === undefined ? Number.POSITIVE_INFINITY : Date.parse(ts);
  };
  const ta = t(a);
  const tb = t(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (
    cmp(`${a.route.metadata.namespace}/${a.route.metadata.name}`, `${b.route.metadata.namespace}/${b.route.metadata.name}`) || cmp(a.route.kind, b.route.kind)
  );
};

/**
 * Gateway API match precedence (see {@link compareMatches}); then the older route, then the
 * first rule and match.
 */
const compareEntries = (a: Entry, b: Entry): number =>
  compareMatches(a.match, b.match) || a.rank - b.rank || a.rule.index - b.rule.index || a.matchIndex - b.matchIndex;

/**
 * The outbound view of `svc` for callers to which `attachments` apply: every supported rule
 * match, ordered by precedence, where a match identical to one with precedence is shadowed
 * (a route whose every rule is shadowed is conflicted); adjacent matches of one rule merge
 * back into one snapshot rule. Without routes, a Service sends to its own endpoints, and a
 * subset Service to its parent's endpoints that carry its labels; when the Mesh sets route
 * defaults (`defaults`), that is spelled out as one rule that carries them.
 */
export const buildOutboundView = (
  svc: MeshService,
  attachments: readonly RouteAttachment[],
  defaults: RuleResilience = {},
): { view: ServiceView; outcomes: AttachmentOutcome[] } => {
  const ordered = [...attachments].sort((a, b) => compareRoutes(a.route, b.route) || a.parentIndex - b.parentIndex);
  const entries: Entry[] = ordered.flatMap((att, rank) =>
    att.route.rules.flatMap((rule) => (rule.matches ?? []).map((match, matchIndex) => ({ rank, att, rule, matchIndex, match }))),
  );
  entries.sort(compareEntries);
  const winners = new Map<string, Entry>();
  const kept: Entry[] = [];
  const shadowedBy = new Map<Entry, Entry>();
  for (const e of entries) {
    const winner = winners.get(matchKey(e.match));
    if (winner === undefined) {
      winners.set(matchKey(e.match), e);
      kept.push(e);
    } else shadowedBy.set(e, winner);
  }
  const routes: RouteRule[] = [];
  let last: Entry | undefined;
  for (const e of kept) {
    const prev = routes[routes.length - 1];
    if (prev !== undefined && last?.att === e.att && last.rule === e.rule) prev.matches.push(e.match);
    else {
      const rule = { name: e.rule.name, matches: [e.match], ...(e.rule.filters.length === 0 ? {} : { filters: [...e.rule.filters] }), backendRefs: backendsOf(e.rule, svc.key) };
      routes.push(withResilience(rule, e.rule.resilience.timeouts, e.rule.resilience.retry));
    }
    last = e;
  }
  const keptSet = new Set(kept);
  const outcomes = ordered.map((att) => outcomeOf(att, entries, keptSet, shadowedBy));
  const endpointServices = new Set(kept.flatMap((e) => e.rule.endpointServices));
  if (routes.length === 0) {
    const all: SnapshotMatch[] = [{ path: { type: 'PathPrefix', value: '/' } }];
    if (svc.subset === undefined) {
      endpointServices.add(svc.key);
      if (defaults.timeouts !== undefined || defaults.retry !== undefined) {
        routes.push(withResilience({ name: 'default', matches: all, backendRefs: [{ service: svc.key, weight: 1 }] }, defaults.timeouts, defaults.retry));
      }
    } else {
      endpointServices.add(svc.subset.parentKey);
      routes.push(
        withResilience({ name: 'default', matches: all, backendRefs: [{ service: svc.subset.parentKey, weight: 1, subset: svc.subset.labels }] }, defaults.timeouts, defaults.retry),
      );
    }
  }
  return { view: makeView({ name: svc.name, namespace: svc.namespace, ports: [...svc.ports], routes }, [...endpointServices].sort()), outcomes };
};

/** The view of a proxy's own Service for inbound: its identity and ports, no routes (routes apply at the caller). */
export const buildInboundView = (svc: Pick<MeshService, 'name' | 'namespace' | 'ports'>): ServiceView =>
  makeView({ name: svc.name, namespace: svc.namespace, ports: [...svc.ports], routes: [] }, []);

const makeView = (config: ServiceConfig, endpointServices: readonly string[]): ServiceView =>
  deepFreeze({ config, hash: contentHash(config), endpointServices });

/**
 * A rule without backends gets its Service at weight 0: its requests fail with 503 (flag
 * UH); unless it redirects, which it does without any.
 */
const backendsOf = (rule: TranslatedRule, parentKey: string): BackendRef[] =>
  rule.backendRefs.length === 0 && !rule.redirects ? [{ service: parentKey, weight: 0 }] : [...rule.backendRefs];

const outcomeOf = (att: RouteAttachment, entries: readonly Entry[], kept: ReadonlySet<Entry>, shadowedBy: ReadonlyMap<Entry, Entry>): AttachmentOutcome => {
  const mine = entries.filter((e) => e.att === att);
  const conflicted: string[] = [];
  const shadowed: string[] = [];
  let inEffect = 0;
  for (const rule of att.route.rules) {
    if (rule.matches === undefined) continue;
    const ruleEntries = mine.filter((e) => e.rule === rule);
    const lost = ruleEntries.filter((e) => shadowedBy.has(e));
    const describe = (e: Entry): string => {
      const w = shadowedBy.get(e);
      const by = w === undefined ? '?' : w.att === att ? `${w.rule.label} of the same route` : `${w.att.route.id} ${w.rule.label}`;
      return `${rule.label}.matches[${e.matchIndex}] (${describeMatch(e.match)}) is shadowed by ${by}`;
    };
    if (lost.length === ruleEntries.length && ruleEntries.length > 0) conflicted.push(...lost.map(describe));
    else {
      shadowed.push(...lost.map(describe));
      if (ruleEntries.some((e) => kept.has(e))) inEffect++;
    }
  }
  return { attachment: att, inEffect, conflicted, shadowed };
};
