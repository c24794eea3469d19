import {
  UNMODIFIABLE_HEADERS,
  serviceKey,
  type GRPCRouteFilter,
  type HTTPHeaderFilter,
  type HTTPRouteFilter,
  type HeaderModifier,
  type RequestMirrorFilter,
  type RouteFilter,
} from '@weft/api';
import type { MeshService } from './service-index.js';

/**
 * Translates the filters of a route rule or backendRef into the snapshot's: header
 * modifiers, URL rewrites and redirects as written; a mirror's backendRef resolved to the
 * endpoints it sends to. A mirror to a Service that does not exist is left out (the Gateway
 * API drops an invalid mirror backend), and said so in `ResolvedRefs`; a header modifier
 * that touches a header proxies write themselves (`host`, framing, connection) refuses the
 * rule, since running it without that change would do something else than written.
 */

/** What the filters of one list became. */
export interface TranslatedFilters {
  readonly filters: RouteFilter[];
  /** Why the rule cannot be applied as written, e.g. `filters[0].requestHeaderModifier.set[1]: ...`. */
  readonly refused: string[];
  /** Mirrors left out, each with the Service it names and why. */
  readonly missing: string[];
  /** Keys of the services whose endpoints the mirrors send to. */
  readonly endpointServices: string[];
}

/** Where the filters are and what they resolve against. */
export interface FilterContext {
  /** `filters` or `backendRefs[1].filters`, for messages. */
  readonly where: string;
  /** `rules[2]`, for the messages of missing mirrors. */
  readonly rule: string;
  readonly namespace: string;
  readonly services: ReadonlyMap<string, MeshService>;
  readonly unusable: ReadonlySet<string>;
}

/** Translates one filter list (of an HTTPRoute or GRPCRoute, rule or backendRef). */
export const translateFilters = (list: readonly (HTTPRouteFilter | GRPCRouteFilter)[] | undefined, ctx: FilterContext): TranslatedFilters => {
  const out: TranslatedFilters = { filters: [], refused: [], missing: [], endpointServices: [] };
  (list ?? []).forEach((f, i) => {
    const at = `${ctx.where}[${i}]`;
    switch (f.type) {
      case 'RequestHeaderModifier':
        out.refused.push(...unmodifiable(f.requestHeaderModifier, `${at}.requestHeaderModifier`));
        out.filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: headerModifier(f.requestHeaderModifier) });
        return;
      case 'ResponseHeaderModifier':
        out.refused.push(...unmodifiable(f.responseHeaderModifier, `${at}.responseHeaderModifier`));
        out.filters.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: headerModifier(f.responseHeaderModifier) });
        return;
      case 'URLRewrite': {
        const { hostname, path } = f.urlRewrite;
        out.filters.push({ type: 'URLRewrite', urlRewrite: { ...(hostname === undefined ? {} : { hostname }), ...(path === undefined ? {} : { path }) } });
        return;
      }
      case 'RequestRedirect': {
        const { scheme, hostname, port, path, statusCode } = f.requestRedirect;
        out.filters.push({
          type: 'RequestRedirect',
          requestRedirect: {
            ...(scheme === undefined ? {} : { scheme }),
            ...(hostname === undefined ? {} : { hostname }),
            ...(port === undefined ? {} : { port }),
            ...(path === undefined ? {} : { path }),
            statusCode,
          },
        });
        return;
      }
      case 'RequestMirror':
        mirror(f.requestMirror, at, ctx, out);
        return;
    }
  });
  return out;
};

/** A header modifier as the snapshot carries it: the lists that have entries. */
const headerModifier = (h: HTTPHeaderFilter): HeaderModifier => ({
  ...(h.set === undefined || h.set.length === 0 ? {} : { set: h.set.map(({ name, value }) => ({ name, value })) }),
  ...(h.add === undefined || h.add.length === 0 ? {} : { add: h.add.map(({ name, value }) => ({ name, value })) }),
  ...(h.remove === undefined || h.remove.length === 0 ? {} : { remove: [...h.remove] }),
});

const unmodifiable = (h: HTTPHeaderFilter, at: string): string[] => {
  const named = [
    ...(h.set ?? []).map((x, i) => [`set[${i}]`, x.name] as const),
    ...(h.add ?? []).map((x, i) => [`add[${i}]`, x.name] as const),
    ...(h.remove ?? []).map((name, i) => [`remove[${i}]`, name] as const),
  ];
  return named
    .filter(([, name]) => UNMODIFIABLE_HEADERS.has(name.toLowerCase()))
    .map(([field, name]) =>
      name.toLowerCase() === 'host'
        ? `${at}.${field}: header "${name}" cannot be modified by a header filter (a URLRewrite filter's hostname sets it)`
        : `${at}.${field}: header "${name}" frames the message or describes the connection; proxies write it themselves`,
    );
};

const mirror = (m: RequestMirrorFilter, at: string, ctx: FilterContext, out: TranslatedFilters): void => {
  const ref = m.backendRef;
  const namespace = ref.namespace ?? ctx.namespace;
  const key = serviceKey(ref.name, namespace);
  const svc = ctx.services.get(key);
  if (svc === undefined) {
    const why = ctx.unusable.has(key) ? 'is not usable (its status says why)' : 'does not exist';
    out.missing.push(`${ctx.rule}.${at}.requestMirror.backendRef: Service ${namespace}/${ref.name} ${why}`);
    return;
  }
  const fraction =
    m.fraction !== undefined ? { numerator: m.fraction.numerator, denominator: m.fraction.denominator } : m.percent !== undefined ? { numerator: m.percent, denominator: 100 } : undefined;
  const target = svc.subset?.parentKey ?? key;
  out.filters.push({
    type: 'RequestMirror',
    requestMirror: {
      service: target,
      ...(svc.subset === undefined ? {} : { subset: svc.subset.labels }),
      ...(fraction === undefined ? {} : { fraction }),
    },
  });
  if (fraction === undefined || fraction.numerator > 0) out.endpointServices.push(target);
};
