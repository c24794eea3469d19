import type { RouteMatch } from '@weft/api/data-plane';
import { queryParam, type RouteRequest } from './route-request.js';
import { compileRouteRegex } from './route-regex.js';

/**
 * One match of a route rule, compiled once per snapshot into a single test: every
 * condition must hold (path, method, headers, query parameters, gRPC method). Conditions
 * are checked cheapest first, and a match on the path alone is one string comparison.
 */
export interface CompiledMatch {
  /**
   * For a `PathPrefix` match, the prefix as ReplacePrefixMatch replaces it: without its
   * trailing `/` (so `''` for `/`). Undefined for other path types.
   */
  readonly prefix: string | undefined;
  /** Whether `req` (whose path without query is `path`) meets every condition. */
  readonly test: (req: RouteRequest, path: string) => boolean;
}

type Test = (req: RouteRequest, path: string) => boolean;

const pathTest = (m: RouteMatch['path']): Test | undefined => {
  const value = m.value;
  switch (m.type) {
    case 'Exact':
      return (_req, path) => path === value;
    case 'RegularExpression': {
      const re = compileRouteRegex(value);
      return (_req, path) => re.test(path);
    }
    case 'PathPrefix': {
      if (value === '/') return undefined;
      const prefix = value.endsWith('/') ? value.slice(0, -1) : value;
      const n = prefix.length;
      // Whole path segments: /foo matches /foo and /foo/bar, not /foobar.
      return (_req, path) => path.startsWith(prefix) && (path.length === n || path.charCodeAt(n) === 0x2f);
    }
  }
};

/** A value test: exact, or an anchored expression. */
const valueTest = (type: 'Exact' | 'RegularExpression', value: string): ((v: string) => boolean) => {
  if (type === 'Exact') return (v) => v === value;
  const re = compileRouteRegex(value);
  return (v) => re.test(v);
};

/** `/<service>/<method>` split at its second `/`, or undefined when the path has not exactly that form. */
const grpcParts = (path: string): [string, string] | undefined => {
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 0x2f || slash < 0 || path.indexOf('/', slash + 1) >= 0) return undefined;
  return [path.slice(1, slash), path.slice(slash + 1)];
};

const grpcTest = (g: NonNullable<RouteMatch['grpc']>): Test => {
  const service = g.service === undefined ? undefined : valueTest(g.type, g.service);
  const method = g.method === undefined ? undefined : valueTest(g.type, g.method);
  if (service === undefined && method === undefined) return (req) => req.grpc;
  return (req, path) => {
    if (!req.grpc) return false;
    const parts = grpcParts(path);
    return parts !== undefined && (service === undefined || service(parts[0])) && (method === undefined || method(parts[1]));
  };
};

const all = (tests: readonly Test[]): Test => {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0] as Test;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (req, path) => a(req, path) && b(req, path);
  }
  return (req, path) => {
    for (const t of tests) if (!t(req, path)) return false;
    return true;
  };
};

/** Compiles one snapshot match. Throws on an expression the snapshot schema should have refused. */
export const compileMatch = (m: RouteMatch): CompiledMatch => {
  const tests: Test[] = [];
  const path = pathTest(m.path);
  if (path !== undefined) tests.push(path);
  const method = m.method;
  if (method !== undefined) tests.push((req) => req.method === method);
  if (m.grpc !== undefined) tests.push(grpcTest(m.grpc));
  for (const h of m.headers ?? []) {
    const name = h.name.toLowerCase();
    const ok = valueTest(h.type, h.value);
    tests.push((req) => {
      const v = req.header(name);
      return v !== undefined && ok(v);
    });
  }
  for (const q of m.queryParams ?? []) {
    const name = q.name;
    const ok = valueTest(q.type, q.value);
    tests.push((req) => {
      const v = queryParam(req.target, name);
      return v !== undefined && ok(v);
    });
  }
  const prefix = m.path.type === 'PathPrefix' ? m.path.value.replace(/\/$/, '') : undefined;
  return { prefix, test: all(tests) };
};
