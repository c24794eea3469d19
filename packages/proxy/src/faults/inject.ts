import { serviceKey, type ProxySnapshot, type RouteFault } from '@weft/api/data-plane';
import type { HopRef } from '../errors/proxy-error.js';
import { systemTimer, type Random, type Timer } from '../resilience/clock.js';
import { compileMatch, type CompiledMatch } from '../routing/route-match.js';
import { pathOf, type RouteRequest } from '../routing/route-request.js';
import { planFault } from './fault-plan.js';

/**
 * FaultPolicy on the caller's outbound path, as Istio applies it (in the calling sidecar):
 * once a request is routed, the fault of its rule, if any, holds it for the delay (flag
 * `DI`), then aborts it (flag `FI`, through the one error path) or lets it go on. A request
 * that goes on after a delay is routed again (the endpoints may have changed meanwhile) and
 * is not faulted twice. A fault with `matches` strikes only the rule's requests that meet
 * one of them (as the request arrived: the rule's filters have not run yet).
 */

/** What the injector needs of an exchange, HTTP/1.1 or HTTP/2. */
export interface FaultableExchange {
  /** Response flag for telemetry. */
  flag: string;
  fail(error: unknown): void;
}

/** Where a request was routed: its service and rule, as the outbound decision names them. */
export interface RoutedTo {
  readonly service: { readonly key: string };
  readonly hop: HopRef;
}

/** Randomness and timers of the injector; tests pass a seeded generator and a virtual clock. */
export interface FaultDeps {
  readonly random: Random;
  readonly timer: Timer;
}

const SYSTEM: FaultDeps = { random: Math.random, timer: systemTimer };

/** Exchanges whose fault was already decided (they come back through the handler after a delay). */
const decided = new WeakSet<object>();

/** A rule's fault, and its matches compiled (undefined: every request of the rule). */
interface RuleFault {
  readonly fault: RouteFault;
  readonly matches: readonly CompiledMatch[] | undefined;
}

/** Faults of a snapshot by `<service key>\0<rule name>`, named as the routing table names rules. */
const bySnapshot = new WeakMap<ProxySnapshot, ReadonlyMap<string, RuleFault>>();

const faultsOf = (snapshot: ProxySnapshot): ReadonlyMap<string, RuleFault> => {
  let found = bySnapshot.get(snapshot);
  if (found !== undefined) return found;
  const map = new Map<string, RuleFault>();
  for (const svc of snapshot.services) {
    const key = serviceKey(svc.name, svc.namespace);
    svc.routes.forEach((rule, index) => {
      const name = `${key}\u0000${rule.name ?? `${key}#${index}`}`;
      const fault = rule.fault;
      if (fault !== undefined && !map.has(name)) map.set(name, { fault, matches: fault.matches?.map(compileMatch) });
    });
  }
  found = map;
  bySnapshot.set(snapshot, found);
  return found;
};

/** The fault of the rule `req` was routed to, if it has one and the request meets its matches. */
export const faultFor = (snapshot: ProxySnapshot, routed: RoutedTo, req: RouteRequest): RouteFault | undefined => {
  const faults = faultsOf(snapshot);
  const found = faults.size === 0 ? undefined : faults.get(`${routed.service.key}\u0000${routed.hop.route ?? ''}`);
  if (found === undefined) return undefined;
  if (found.matches === undefined) return found.fault;
  const path = pathOf(req.target);
  return found.matches.some((m) => m.test(req, path)) ? found.fault : undefined;
};

/**
 * Applies the fault of the request's rule (`req`: the request as routing read it). True when the injector took the request over: it
 * was aborted, or is held and `resume` runs after the delay (unless `over()` says the client
 * went away); false when the handler goes on as usual.
 */
export const interceptFault = (
  ex: FaultableExchange,
  over: () => boolean,
  snapshot: ProxySnapshot,
  routed: RoutedTo,
  req: RouteRequest,
  resume: () => void,
  deps: FaultDeps = SYSTEM,
): boolean => {
  if (decided.has(ex)) return false;
  const fault = faultFor(snapshot, routed, req);
  if (fault === undefined) return false;
  decided.add(ex);
  // The fault strikes before anything is forwarded: the error names the rule, not the endpoint picked.
  const { direction, proxy, service, route } = routed.hop;
  const plan = planFault(fault, deps.random, { direction, proxy, service, route });
  if (plan.delayMs === 0 && plan.abort === undefined) return false;
  const next = (): void => {
    if (over()) return;
    if (plan.abort !== undefined) {
      ex.fail(plan.abort);
      return;
    }
    try {
      resume();
    } catch (err) {
      // Routing again may fail (the service left the config meanwhile): no timer callback may throw.
      ex.fail(err);
    }
  };
  if (plan.delayMs === 0) {
    next();
    return true;
  }
  ex.flag = 'DI';
  deps.timer.schedule(plan.delayMs, next);
  return true;
};
