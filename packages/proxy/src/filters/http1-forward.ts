import type { Socket } from 'node:net';
import type { Exchange } from '../http1/downstream.js';
import type { ParsedHead, RawHeaders } from '../http1/llhttp.js';
import { buildRequestHead, requestFraming, type RequestTarget } from '../http1/request-head.js';
import type { Http1Pool } from '../http1/upstream.js';
import type { Http1Template } from '../destination/http1-attempts.js';
import type { OutboundDecision } from '../outbound/resolve.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { sendHttp1Mirrors, teeTo, type Http1MirrorRequest } from './mirror-http1.js';
import { dropMirrors, MIRROR_BODY_LIMIT, MirrorBody, startMirrors } from './mirror.js';
import type { RoutePlan } from './route-plan.js';
import { shadowAuthority } from './shadow-host.js';

/**
 * An outbound HTTP/1.1 request whose rule has filters: answered with a redirect, or
 * forwarded with its headers modified, its URL rewritten, its response headers modified
 * and copies sent to mirrors, as its route plan says.
 */

/** What forwarding needs besides the exchange and its decision. */
export interface Http1ForwardContext {
  /** Pools for mirrors, which go around the destination policies. */
  readonly poolFor: (endpoint: EndpointRef) => Http1Pool;
  /** Sends the request under its destination's policies (breaker, balancing, retries). */
  readonly send: (decision: Forward, template: Http1Template) => void;
  readonly onUpgrade: ((upstream: Socket, rest: Buffer, head: ParsedHead) => void) | undefined;
}

const headerBlock = (headers: RawHeaders): string => {
  let out = '';
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
  return out;
};

/** Answers with the redirect the plan makes for this request; the request is not forwarded. */
const answerRedirect = (ex: Exchange, plan: RoutePlan, target: RequestTarget, prefix: string | undefined): void => {
  const redirect = plan.redirect;
  if (redirect === undefined) return;
  const r = redirect({ scheme: 'http', authority: target.authority, target: target.path }, prefix);
  let headers: RawHeaders = ['location', r.location, 'content-length', '0'];
  if (plan.responseHeaders !== undefined) headers = plan.responseHeaders.raw(headers);
  ex.writeHead(r.status, r.reason, headerBlock(headers), 'length');
  ex.end();
};

type Forward = Extract<OutboundDecision, { kind: 'forward' }>;

/** The response-header edit of a plan, with the sticky cookie a hashing balancer made up appended. */
const withSetCookie = (edit: ((h: RawHeaders) => RawHeaders) | undefined, cookie: string | undefined): ((h: RawHeaders) => RawHeaders) | undefined => {
  if (cookie === undefined) return edit;
  return (h) => [...(edit === undefined ? h : edit(h)), 'set-cookie', cookie];
};

/** Carries out `decision` (a redirect, or a forward with a plan) for `ex`, whose client asked for `target`. */
export const forwardHttp1 = (ex: Exchange, decision: OutboundDecision, target: RequestTarget, ctx: Http1ForwardContext): void => {
  const plan = decision.plan;
  if (decision.kind === 'redirect') {
    answerRedirect(ex, decision.plan, target, decision.prefix);
    return;
  }
  const upstream: RequestTarget =
    plan === undefined
      ? target
      : { authority: plan.hostname ?? target.authority, path: plan.path === undefined ? target.path : plan.path(target.path, decision.prefix) };
  const headers = plan?.requestHeaders === undefined ? ex.head.headers : plan.requestHeaders.raw(ex.head.headers);
  let teeBody: ReturnType<typeof teeTo> | undefined;
  const slots = plan?.mirrors === undefined || ex.head.upgrade ? undefined : startMirrors(plan.mirrors);
  if (slots !== undefined) {
    const copy: Http1MirrorRequest = {
      head: ex.head,
      facts: ex.facts,
      path: upstream.path,
      authority: shadowAuthority(upstream.authority),
      headers,
      proxy: decision.hop.proxy,
    };
    if (!ex.hasBody) sendHttp1Mirrors(ctx.poolFor, slots, copy, undefined);
    else if (ex.facts.contentLength > MIRROR_BODY_LIMIT) dropMirrors(slots, 'dropped_body_too_large');
    else teeBody = teeTo(new MirrorBody(slots, (body) => sendHttp1Mirrors(ctx.poolFor, slots, copy, body)));
  }
  const editResponse = withSetCookie(plan?.responseHeaders?.raw, decision.setCookie);
  ctx.send(decision, {
    head: buildRequestHead(ex, upstream, '', headers),
    framing: requestFraming(ex),
    onUpgrade: ctx.onUpgrade,
    teeBody,
    editResponseHeaders: editResponse,
  });
};
