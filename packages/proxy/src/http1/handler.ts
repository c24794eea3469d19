import type { Socket } from 'node:net';
import { readRawHeader } from '../authz/header-readers.js';
import type { InboundAuthz } from '../authz/inbound-guard.js';
import type { InboundRateLimits } from '../ratelimit/inbound-rate-limits.js';
import { afterRateLimit } from '../ratelimit/verdict.js';
import { interceptFault } from '../faults/inject.js';
import type { HopRef } from '../errors/proxy-error.js';
import { forwardHttp1 } from '../filters/http1-forward.js';
import { routeOutbound } from '../outbound/resolve.js';
import { Http1RouteRequest } from '../routing/route-request.js';
import type { ConfigState } from '../runtime/config-state.js';
import type { Exchange } from './downstream.js';
import type { ParsedHead } from './llhttp.js';
import { buildRequestHead, requestFraming, splitAbsoluteForm, type RequestTarget } from './request-head.js';
import { joinSockets } from './tunnel.js';
import { sendHttp1 } from '../destination/http1-attempts.js';
import type { Http1Pool } from './upstream.js';
import { ProxyError } from '../errors/proxy-error.js';

/** The side of the proxy and the service a listener serves. */
export interface Http1Route {
  readonly direction: 'inbound' | 'outbound';
  /** `name.namespace` of this sidecar's own service. */
  readonly proxy: string;
  /** For an explicit upstream listener: the one service it reaches. */
  readonly fixedService?: string;
  /** The current config; read once per request. */
  readonly config: () => ConfigState;
  /** Time allowed for a response head; 0 for none. */
  readonly responseTimeoutMs: () => number;
  /** Inbound: authorization, checked before a request goes to the app. */
  readonly authz?: InboundAuthz;
  /** Inbound: rate limits, checked after authorization. */
  readonly rateLimits?: InboundRateLimits;
}

const onUpgrade =
  (ex: Exchange) =>
  (upstream: Socket, upstreamRest: Buffer, _head: ParsedHead): void => {
    const { socket, rest } = ex.takeOver();
    joinSockets(socket, upstream, rest, upstreamRest);
  };

const send = (ex: Exchange, pool: Http1Pool, target: RequestTarget, hop: HopRef, timeoutMs: number): void => {
  pool.dispatch({
    exchange: ex,
    head: buildRequestHead(ex, target, ''),
    framing: requestFraming(ex),
    hop,
    responseTimeoutMs: timeoutMs,
    onUpgrade: ex.head.upgrade ? onUpgrade(ex) : undefined,
    teeBody: undefined,
    editResponseHeaders: undefined,
    attempt: undefined,
  });
};

/**
 * The HTTP/1.1 request handler of one listener. Outbound: resolve service, route, backend
 * and endpoint, then forward on that endpoint's pool. Inbound: forward to the local app.
 */
export const http1Handler = (route: Http1Route): ((ex: Exchange) => void) => {
  // Every inbound request goes to the same hop: the local app. Built once, not per request.
  const appHop: HopRef = { direction: 'inbound', proxy: route.proxy, service: route.proxy, endpoint: 'app' };
  const handle = (ex: Exchange): void => {
    const config = route.config();
    const absolute = splitAbsoluteForm(ex.head.url);
    const target: RequestTarget = absolute ?? { authority: ex.facts.host, path: ex.head.url };
    if (route.direction === 'inbound') {
      const denied = route.authz?.check(config.snapshot.inbound.authorization, ex.head.method, target.path, ex.downstream.options.peer, ex.head.headers, readRawHeader);
      if (denied !== undefined) {
        ex.fail(denied);
        return;
      }
      const toApp = (): void => {
        const pool = config.appPool();
        if (pool === undefined) {
          ex.fail(new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', 'this proxy has no local application (--app-port)', appHop));
          return;
        }
        send(ex, pool, target, appHop, route.responseTimeoutMs());
      };
      const limited = route.rateLimits?.check(config.snapshot.inbound.rateLimits, ex.downstream.options.peer, ex.downstream.remoteAddress, ex.head.method, target.path, ex.head.headers, readRawHeader);
      afterRateLimit(limited, () => ex.ended, toApp, (e) => ex.fail(e));
      return;
    }
    const routeReq = new Http1RouteRequest(ex.head.method, target.path, ex.head.headers);
    const source = ex.downstream.remoteAddress;
    const decision = routeOutbound(config.table, route.proxy, route.fixedService, target.authority, routeReq, source);
    ex.target = decision.service;
    if (interceptFault(ex, () => ex.ended, config.snapshot, decision, routeReq, () => handle(ex))) return;
    // The rule's timeouts apply per attempt (see AttemptRun).
    if (decision.kind === 'forward' && decision.plan === undefined && decision.setCookie === undefined) {
      sendHttp1(
        ex,
        decision,
        { head: buildRequestHead(ex, target, ''), framing: requestFraming(ex), onUpgrade: ex.head.upgrade ? onUpgrade(ex) : undefined, teeBody: undefined, editResponseHeaders: undefined },
        config,
      );
      return;
    }
    forwardHttp1(ex, decision, target, {
      poolFor: (endpoint) => config.poolFor(endpoint),
      send: (d, template) => sendHttp1(ex, d, template, config),
      onUpgrade: ex.head.upgrade ? onUpgrade(ex) : undefined,
    });
  };
  return handle;
};
