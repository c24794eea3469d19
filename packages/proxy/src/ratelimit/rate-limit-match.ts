import type { HeaderReader } from '../authz/evaluator.js';
import type { CompiledMatch } from '../routing/route-match.js';
import { pathOf, type RouteRequest } from '../routing/route-request.js';

/**
 * Which inbound requests a RateLimitPolicy with `matches` applies to (a policy on a route
 * carries the matches of the route's rules): those that meet one of them, tested as route
 * rules test requests. The callee sees the request as the caller forwarded it.
 */

/** An inbound request, read for matching through the handler's own header reader. */
class InboundRouteRequest<H> implements RouteRequest {
  readonly method: string;
  readonly target: string;
  readonly #headers: H;
  readonly #read: HeaderReader<H>;

  constructor(method: string, target: string, headers: H, read: HeaderReader<H>) {
    this.method = method;
    this.target = target;
    this.#headers = headers;
    this.#read = read;
  }

  header(name: string): string | undefined {
    return this.#read(this.#headers, name);
  }

  get grpc(): boolean {
    const type = this.header('content-type');
    return type !== undefined && type.startsWith('application/grpc');
  }
}

/** Tests requests against compiled policy matches, reading each request at most once. */
export class PolicyMatcher<H> {
  readonly #req: RouteRequest;
  #path: string | undefined;

  constructor(method: string, target: string, headers: H, read: HeaderReader<H>) {
    this.#req = new InboundRouteRequest(method, target, headers, read);
  }

  /** Whether the request meets one of `matches`; undefined matches: every request. */
  meets(matches: readonly CompiledMatch[] | undefined): boolean {
    if (matches === undefined) return true;
    this.#path ??= pathOf(this.#req.target);
    const path = this.#path;
    return matches.some((m) => m.test(this.#req, path));
  }
}
