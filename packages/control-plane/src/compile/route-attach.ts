import { serviceKey, type ParentReference } from '@weft/api';
import type { MeshService } from './service-index.js';
import { REASONS } from './status.js';

/**
 * How one `parentRef` of a route attaches to a Service (GAMMA). A route in another
 * namespace than its parent Service is a consumer route: it applies to callers in the
 * route's namespace only, and for them it replaces the Service's own (producer) routes.
 */
export type ParentAttachment =
  | {
      readonly kind: 'attached';
      readonly serviceKey: string;
      /** The caller namespace the route applies to, or undefined for a producer route (every caller). */
      readonly consumerNamespace: string | undefined;
    }
  | {
      readonly kind: 'detached';
      /** Accepted (True) when only a limitation of the snapshot keeps it from applying. */
      readonly accepted: boolean;
      readonly reason: string;
      readonly message: string;
      /** True when the parent Service does not exist (a dangling reference). */
      readonly missing: boolean;
    };

/**
 * Resolves `ref` of a route in `routeNamespace` against the usable `services` (`unusable`:
 * declared ones left out, named as such in messages). Routes apply to the HTTP-speaking ports of
 * a Service (`http`, `http2`, `grpc`); a Service with only `tcp` ports takes none. The
 * snapshot carries one route list per Service, so a `sectionName` or `port` that selects
 * some but not all ports of a multi-port Service cannot be expressed yet: such a parent is
 * accepted with `UnsupportedValue` and the route is not applied to it.
 */
export const resolveParent = (
  ref: ParentReference,
  routeNamespace: string,
  services: ReadonlyMap<string, MeshService>,
  unusable: ReadonlySet<string>,
): ParentAttachment => {
  const namespace = ref.namespace ?? routeNamespace;
  const key = serviceKey(ref.name, namespace);
  const svc = services.get(key);
  const detached = (accepted: boolean, reason: string, message: string, missing = false): ParentAttachment => ({ kind: 'detached', accepted, reason, message, missing });
  if (svc === undefined) {
    const why = unusable.has(key) ? 'is not usable (its status says why)' : 'does not exist';
    return detached(false, REASONS.NoMatchingParent, `Service ${namespace}/${ref.name} ${why}; the route applies once it is`, true);
  }
  if (svc.ports.every((p) => p.protocol === 'tcp')) {
    return detached(false, REASONS.NoMatchingParent, `Service ${namespace}/${ref.name} has only tcp ports: routes apply to http, http2 and grpc ports`);
  }
  const scoped = svc.ports.filter((p) => (ref.sectionName === undefined || p.name === ref.sectionName) && (ref.port === undefined || p.port === ref.port));
  const scope = [ref.sectionName === undefined ? '' : `sectionName ${ref.sectionName}`, ref.port === undefined ? '' : `port ${ref.port}`].filter(Boolean).join(' and ');
  if (scoped.length === 0) return detached(false, REASONS.NoMatchingParent, `Service ${namespace}/${ref.name} has no port with ${scope}`);
  if (scoped.every((p) => p.protocol === 'tcp')) return detached(false, REASONS.NoMatchingParent, `the port with ${scope} of Service ${namespace}/${ref.name} is tcp: routes do not apply`);
  if (scoped.length < svc.ports.length) {
    return detached(true, REASONS.UnsupportedValue, `routes scoped to one port (${scope}) of a Service with several ports are not supported by proxies yet; the route is not applied to ${namespace}/${ref.name}`);
  }
  return { kind: 'attached', serviceKey: key, consumerNamespace: namespace === routeNamespace ? undefined : routeNamespace };
};
