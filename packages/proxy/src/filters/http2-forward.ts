import type { OutgoingHttpHeaders } from 'node:http2';
import type { H2Exchange } from '../http2/exchange.js';
import { forwardRequestHeaders } from '../http2/headers.js';
import type { OutboundDecision } from '../outbound/resolve.js';
import { sendHttp2Mirrors, type MirrorSessions } from './mirror-http2.js';
import { dropMirrors, MIRROR_BODY_LIMIT, MirrorBody, startMirrors } from './mirror.js';
import { shadowAuthority } from './shadow-host.js';

/**
 * An outbound HTTP/2 (or gRPC) request whose rule has filters: the request headers sent
 * upstream (modified, URL rewritten), and what the relay does on the way (response headers
 * modified, body copied for mirrors); or a redirect answered at once.
 */

/** How the stream is forwarded: its upstream headers, and the relay's route filters. */
export interface Http2Forwarding {
  readonly headers: OutgoingHttpHeaders;
  readonly editResponseHeaders?: (headers: OutgoingHttpHeaders) => void;
  readonly tapRequestBody?: { write(chunk: Buffer): void; end(): void };
}

type Forward = Extract<OutboundDecision, { kind: 'forward' }>;

/** Adds a `set-cookie` to response headers, after any the upstream sent. */
const appendSetCookie = (out: OutgoingHttpHeaders, cookie: string): void => {
  const had = out['set-cookie'];
  out['set-cookie'] = had === undefined ? [cookie] : [...(Array.isArray(had) ? had : [String(had)]), cookie];
};
type Redirect = Extract<OutboundDecision, { kind: 'redirect' }>;

/** Prepares a forward with a plan: headers to send, mirrors started (or their body copy set up). */
export const prepareHttp2Forward = (ex: H2Exchange, decision: Forward, sessions: MirrorSessions): Http2Forwarding => {
  const headers = forwardRequestHeaders(ex.headers);
  const plan = decision.plan;
  const cookie = decision.setCookie;
  const setCookie = cookie === undefined ? undefined : (out: OutgoingHttpHeaders): void => appendSetCookie(out, cookie);
  if (plan === undefined) return setCookie === undefined ? { headers } : { headers, editResponseHeaders: setCookie };
  if (plan.path !== undefined) headers[':path'] = plan.path(ex.path, decision.prefix);
  if (plan.hostname !== undefined) headers[':authority'] = plan.hostname;
  plan.requestHeaders?.object(headers);
  let tap: MirrorBody | undefined;
  const slots = plan.mirrors === undefined ? undefined : startMirrors(plan.mirrors);
  if (slots !== undefined) {
    const authority = headers[':authority'];
    const copy: OutgoingHttpHeaders = { ...headers, ':authority': shadowAuthority(typeof authority === 'string' ? authority : ex.authority) };
    const length = Number(ex.headers['content-length'] ?? 0);
    if (!ex.hasBody) sendHttp2Mirrors(sessions, slots, copy, undefined);
    else if (length > MIRROR_BODY_LIMIT) dropMirrors(slots, 'dropped_body_too_large');
    else tap = new MirrorBody(slots, (body) => sendHttp2Mirrors(sessions, slots, copy, body));
  }
  const edit = plan.responseHeaders?.object;
  const editResponseHeaders =
    setCookie === undefined
      ? edit
      : (out: OutgoingHttpHeaders): void => {
          edit?.(out);
          setCookie(out);
        };
  return {
    headers,
    ...(editResponseHeaders === undefined ? {} : { editResponseHeaders }),
    ...(tap === undefined ? {} : { tapRequestBody: tap }),
  };
};

/** Answers with the redirect the plan makes for this request; whatever body the client sends is read and dropped. */
export const answerHttp2Redirect = (ex: H2Exchange, decision: Redirect): void => {
  const { plan } = decision;
  const redirect = plan.redirect;
  if (redirect === undefined) return;
  const scheme = ex.headers[':scheme'] === 'https' ? 'https' : 'http';
  const r = redirect({ scheme, authority: ex.authority, target: ex.path }, decision.prefix);
  const headers: OutgoingHttpHeaders = { ':status': r.status, location: r.location };
  plan.responseHeaders?.object(headers);
  if (ex.hasBody) ex.down.resume();
  ex.respond(headers, true, false);
};
