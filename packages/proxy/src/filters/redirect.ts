import type { RequestRedirect } from '@weft/api/data-plane';
import { compilePathChange } from './path-rewrite.js';

/**
 * RequestRedirect: the proxy answers the request itself with a redirect, and forwards
 * nothing. This is the one place a redirect's `Location` and response are made; the
 * HTTP/1.1 and HTTP/2 handlers only write what it returns.
 *
 * Each part of `Location` not configured is the request's: scheme, host (from `Host` or
 * `:authority`), path and query. The port is the configured one; else, when the scheme is
 * configured, that scheme's well-known port; else the port the request named. Port 80 for
 * http and 443 for https are left out, as the Gateway API asks.
 */

/** What the proxy answers with. */
export interface RedirectResponse {
  readonly status: number;
  readonly reason: string;
  readonly location: string;
}

/** What a redirect is made from: the request as the client addressed it, and the prefix its match matched. */
export interface RedirectRequest {
  readonly scheme: string;
  readonly authority: string;
  /** Origin-form path and query. */
  readonly target: string;
}

export type CompiledRedirect = (req: RedirectRequest, prefix: string | undefined) => RedirectResponse;

const REASONS: Readonly<Record<number, string>> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
};

const WELL_KNOWN: Readonly<Record<string, number>> = { http: 80, https: 443 };

/** Host and port of an authority (`host`, `host:port`, `[v6]:port`); the host keeps an IPv6 address's brackets. */
export const splitAuthority = (authority: string): { host: string; port: number | undefined } => {
  const at = authority.lastIndexOf('@');
  const a = at < 0 ? authority : authority.slice(at + 1);
  const close = a.lastIndexOf(']');
  const colon = a.lastIndexOf(':');
  if (colon < 0 || colon < close) return { host: a, port: undefined };
  const port = Number(a.slice(colon + 1));
  return { host: a.slice(0, colon), port: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined };
};

/** Compiles a RequestRedirect filter. */
export const compileRedirect = (r: RequestRedirect): CompiledRedirect => {
  const status = r.statusCode;
  const reason = REASONS[status] ?? 'Found';
  const path = r.path === undefined ? undefined : compilePathChange(r.path);
  return (req, prefix) => {
    const scheme = r.scheme ?? (req.scheme === 'https' ? 'https' : 'http');
    const asked = splitAuthority(req.authority);
    const host = r.hostname ?? asked.host;
    const port = r.port ?? (r.scheme !== undefined ? WELL_KNOWN[r.scheme] : asked.port);
    const hostPort = port === undefined || port === WELL_KNOWN[scheme] ? host : `${host}:${port}`;
    const target = path === undefined ? req.target : path(req.target, prefix);
    return { status, reason, location: `${scheme}://${hostPort}${target}` };
  };
};
