import type { RouteFilter } from '@weft/api/data-plane';
import type { Backend } from '../routing/backend.js';
import { compileHeaderEdit, type HeaderEdit } from './header-edit.js';
import { compileMirror, type MirrorPolicy } from './mirror.js';
import { compilePathChange, type PathChange } from './path-rewrite.js';
import { compileRedirect, type CompiledRedirect } from './redirect.js';

/**
 * What the filters of a rule and of the backend a request went to do to that request,
 * composed once per snapshot for each (rule, backend) pair: the rule's filters apply first,
 * then the backend's, and where both rewrite one thing (host, path) the backend's wins. A
 * pair without filters has no plan at all, so the request path pays for filters only where
 * a route has some.
 *
 * Request filters do not depend on the order they are listed in: header modifiers and the
 * URL rewrite touch different parts of the request, and mirrors copy the request as it is
 * forwarded (headers modified, URL rewritten). A redirect answers the request instead of
 * forwarding it: it is not mirrored, and the response header modifier applies to it.
 */
export interface RoutePlan {
  readonly requestHeaders: HeaderEdit | undefined;
  /** URLRewrite's path change. */
  readonly path: PathChange | undefined;
  /** URLRewrite's hostname: the `Host` (`:authority`) sent upstream. */
  readonly hostname: string | undefined;
  readonly responseHeaders: HeaderEdit | undefined;
  readonly mirrors: readonly MirrorPolicy[] | undefined;
  /** Set when the request is answered with a redirect instead of forwarded. */
  readonly redirect: CompiledRedirect | undefined;
}

/** Finds (or makes) the backend a mirror sends to. */
export type MirrorBackends = (service: string, subset: Readonly<Record<string, string>> | undefined) => Backend;

/** Composes the filters of a rule and of one of its backends; undefined when there are none. */
export const compileRoutePlan = (ruleFilters: readonly RouteFilter[], backendFilters: readonly RouteFilter[], backends: MirrorBackends): RoutePlan | undefined => {
  const filters = [...ruleFilters, ...backendFilters];
  if (filters.length === 0) return undefined;
  let path: PathChange | undefined;
  let hostname: string | undefined;
  let redirect: CompiledRedirect | undefined;
  const requestMods = [];
  const responseMods = [];
  const mirrors: MirrorPolicy[] = [];
  for (const f of filters) {
    switch (f.type) {
      case 'RequestHeaderModifier':
        requestMods.push(f.requestHeaderModifier);
        break;
      case 'ResponseHeaderModifier':
        responseMods.push(f.responseHeaderModifier);
        break;
      case 'URLRewrite':
        if (f.urlRewrite.path !== undefined) path = compilePathChange(f.urlRewrite.path);
        if (f.urlRewrite.hostname !== undefined) hostname = f.urlRewrite.hostname;
        break;
      case 'RequestRedirect':
        redirect = compileRedirect(f.requestRedirect);
        break;
      case 'RequestMirror':
        mirrors.push(compileMirror(f.requestMirror, backends(f.requestMirror.service, f.requestMirror.subset)));
        break;
    }
  }
  return {
    requestHeaders: compileHeaderEdit(requestMods),
    path,
    hostname,
    responseHeaders: compileHeaderEdit(responseMods),
    mirrors: mirrors.length === 0 ? undefined : mirrors,
    redirect,
  };
};
