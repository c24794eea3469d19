import { resolveParent, type ParentAttachment } from './route-attach.js';
import type { RuleResilience } from './route-resilience.js';
import { routeStatus } from './route-status.js';
import type { AnyRoute, TranslatedRoute } from './route-translate.js';
import { buildInboundView, buildOutboundView, type AttachmentOutcome, type RouteAttachment, type ServiceView } from './route-view.js';
import type { MeshService } from './service-index.js';
import { REASONS, cmp, type ResourceStatusReport } from './status.js';

/** How callers see one Service: the views built once per context and shared by proxies. */
export interface ServiceRouting {
  /** For callers with no consumer routes to it: its own (producer) routes. */
  readonly outbound: ServiceView;
  /** For callers in a namespace with consumer routes to it: those routes only. */
  readonly consumers: ReadonlyMap<string, ServiceView>;
  /** For its own proxies: identity and ports, no routes. */
  readonly inbound: ServiceView;
}

/** The routing part of a mesh context, and the routes' statuses. */
export interface Routing {
  readonly routing: Map<string, ServiceRouting>;
  readonly routeStatuses: ResourceStatusReport[];
  readonly routesByParent: Map<string, AnyRoute[]>;
}

/**
 * Attaches routes to their parents, builds every usable Service's views (producer, one per
 * namespace with consumer routes, inbound), and the routes' statuses. `routeDefaults` are
 * the Mesh's, for Services without routes.
 */
export const buildRouting = (
  services: ReadonlyMap<string, MeshService>,
  unusable: ReadonlySet<string>,
  translated: readonly TranslatedRoute[],
  routeDefaults: RuleResilience = {},
): Routing => {
  // Per parent Service: its producer routes, and the consumer routes of each caller namespace.
  const groups = new Map<string, { producer: RouteAttachment[]; consumers: Map<string, RouteAttachment[]> }>();
  const attachmentOf = new Map<string, RouteAttachment>();
  const resolutions = new Map<TranslatedRoute, ParentAttachment[]>();
  const routesByParent = new Map<string, AnyRoute[]>();
  for (const t of translated) {
    const list = t.route.spec.parentRefs.map((ref, parentIndex) => {
      const a = resolveParent(ref, t.route.metadata.namespace, services, unusable);
      if (a.kind !== 'attached') return a;
      const id = `${t.id}|${a.serviceKey}`;
      if (!attachmentOf.has(id)) {
        const att: RouteAttachment = { route: t, parentIndex };
        attachmentOf.set(id, att);
        const group = groups.get(a.serviceKey) ?? { producer: [], consumers: new Map<string, RouteAttachment[]>() };
        groups.set(a.serviceKey, group);
        if (a.consumerNamespace === undefined) group.producer.push(att);
        else group.consumers.set(a.consumerNamespace, [...(group.consumers.get(a.consumerNamespace) ?? []), att]);
        routesByParent.set(a.serviceKey, [...(routesByParent.get(a.serviceKey) ?? []), t.route]);
      }
      return a;
    });
    resolutions.set(t, list);
  }
  const outcomes = new Map<RouteAttachment, AttachmentOutcome>();
  const routing = new Map<string, ServiceRouting>();
  for (const svc of services.values()) {
    const view = (attachments: readonly RouteAttachment[]): ServiceView => {
      const { view: v, outcomes: o } = buildOutboundView(svc, attachments, routeDefaults);
      for (const x of o) outcomes.set(x.attachment, x);
      return v;
    };
    const group = groups.get(svc.key);
    const consumers = [...(group?.consumers ?? [])].sort(([a], [b]) => cmp(a, b));
    routing.set(svc.key, {
      outbound: view(group?.producer ?? []),
      consumers: new Map(consumers.map(([ns, atts]) => [ns, view(atts)])),
      inbound: buildInboundView(svc),
    });
  }
  const routeStatuses = translated.map((t) =>
    routeStatus(
      t,
      t.route.spec.parentRefs.map((ref, i) => {
        const attachment = resolutions.get(t)?.[i] ?? { kind: 'detached', accepted: false, reason: REASONS.NoMatchingParent, message: '', missing: true };
        const att = attachment.kind === 'attached' ? attachmentOf.get(`${t.id}|${attachment.serviceKey}`) : undefined;
        return { ref, attachment, outcome: att === undefined ? undefined : outcomes.get(att) };
      }),
    ),
  );
  return { routing, routeStatuses, routesByParent };
};
