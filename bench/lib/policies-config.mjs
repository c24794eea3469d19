// weft-2hop-policies: the two-hop shape of weft-2hop (its no-policy twin) with a realistic
// set of traffic policies on, to measure what they cost on the request path. The target is
// a throughput of at least 90% of weft-2hop's in the same run.
//
//   wrk -> Weft bench-client (A) -> mutual TLS 1.3 -> Weft backend (B) -> backend
//
// A (the caller) gets what a control plane compiles for callers of `backend`:
//   - routes: a rule with three matches, of which `GET /` (the benchmark's request) meets
//     only the last, so that each request is tested against all three; then a catch-all;
//   - that rule's backends split 90/10 between the subsets `version: v1` and `version: v2`,
//     with a retry policy and timeouts;
//   - the destination policy of backend.default: least-request balancing, outlier detection.
// B (the callee) gets its Service's RateLimitPolicy: a LOCAL token bucket far above any
// rate this machine reaches, so it is checked on every request and never refuses one.
//
// Both endpoints of the service (one per subset) are B's mesh port: the chain keeps two
// proxies, as its twin has, and since pools are kept per address:port both subsets share
// one connection pool, as the twin's single endpoint does.

import { Unavailable, upWeft } from './configs.mjs';
import { httpGet } from './proc.mjs';

export const POLICY_CONFIGS = [
  {
    name: 'weft-2hop-policies',
    kind: 'weft',
    hops: 2,
    ref: 'haproxy-2hop',
    // The configuration whose throughput this one is divided by (see report.mjs).
    twin: 'weft-2hop',
    policies: true,
    snapshot: (opts) => JSON.stringify(policySnapshot(opts), null, 2) + '\n',
  },
];

/** Far above the benchmark's rate (about 10^4 req/s on 2 cores): checked, never exhausted. */
export const RATE_LIMIT_PER_SECOND = 1_000_000;

const SERVICE = 'backend.default';

/** The route rules of `backend` as callers see them; `GET /` meets the third match of the first rule. */
const routes = () => [
  {
    name: 'backend-canary',
    matches: [
      { path: { type: 'PathPrefix', value: '/api' } },
      { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'always' }] },
      { path: { type: 'Exact', value: '/' }, method: 'GET' },
    ],
    backendRefs: [
      { service: SERVICE, weight: 90, subset: { version: 'v1' } },
      { service: SERVICE, weight: 10, subset: { version: 'v2' } },
    ],
    retry: { attempts: 2, retryOn: ['5xx', 'connect-failure'], statusCodes: [503] },
    timeouts: { requestMs: 5000, backendRequestMs: 2000 },
  },
  { name: 'backend-default', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ service: SERVICE, weight: 1 }] },
];

const transport = (tls) =>
  tls ? { tls: { mode: 'static', certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile } } : { tls: { mode: 'disabled' } };

/**
 * The ProxySnapshot (packages/api/src/snapshot.ts) of one proxy of the chain, as an object;
 * written as JSON, which the proxy reads as YAML.
 * @param {{role: 'client' | 'server', endpointPort: number, tls: {certFile: string, keyFile: string, caFile: string} | null}} o
 */
export const policySnapshot = ({ role, endpointPort, tls }) => {
  const client = role === 'client';
  const endpoint = (version) => ({ address: '127.0.0.1', port: endpointPort, labels: { version } });
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'ProxySnapshot',
    routesVersion: '1',
    endpointsVersion: '1',
    services: [{ name: 'backend', namespace: 'default', ports: [{ port: 80, protocol: 'http' }], ...(client ? { routes: routes() } : {}) }],
    endpoints: { [SERVICE]: [endpoint('v1'), endpoint('v2')] },
    ...(client
      ? { destinations: { [SERVICE]: { loadBalancer: { type: 'LEAST_REQUEST' }, outlierDetection: { consecutive5xx: 5 } } } }
      : {}),
    transport: transport(tls),
    ...(client
      ? {}
      : {
          inbound: {
            rateLimits: [
              {
                policy: 'default/backend-rps',
                limits: [{ name: 'backend-rps', tokens: RATE_LIMIT_PER_SECOND, intervalMs: 1000, burst: RATE_LIMIT_PER_SECOND, key: { type: 'OVERALL' } }],
              },
            ],
          },
        }),
  };
};

const adminSnapshot = async (proc) => {
  const r = await httpGet(proc.admin, '/config', 3000);
  if (r.status !== 200) throw new Unavailable(`${proc.name} /config answered ${r.status}`);
  return JSON.parse(r.body).snapshot ?? {};
};

/**
 * What the proxies run with, from their admin `/config`: the benchmark refuses to measure a
 * chain whose snapshot lost a policy on the way (a default, a field dropped), since its
 * numbers would be the twin's.
 */
const checkPolicies = async (a, b) => {
  const sa = await adminSnapshot(a);
  const sb = await adminSnapshot(b);
  const rule = sa.services?.find((s) => s.name === 'backend')?.routes?.[0];
  const dest = sa.destinations?.[SERVICE];
  const limit = sb.inbound?.rateLimits?.[0]?.limits?.[0];
  const facts = {
    ruleMatches: rule?.matches?.length ?? 0,
    split: (rule?.backendRefs ?? []).map((r) => `${r.subset?.version ?? '-'}:${r.weight}`).join('/'),
    retry: rule?.retry ? `${rule.retry.attempts} attempts on ${rule.retry.retryOn.join(',')} + ${rule.retry.statusCodes.join(',')}` : null,
    timeouts: rule?.timeouts ?? null,
    loadBalancer: dest?.loadBalancer?.type ?? null,
    consecutive5xx: dest?.outlierDetection?.consecutive5xx ?? null,
    rateLimitPerSecond: limit ? (limit.tokens * 1000) / limit.intervalMs : null,
    rateLimitMode: sb.inbound?.rateLimits?.[0] ? (sb.inbound.rateLimits[0].redis ? 'GLOBAL' : 'LOCAL') : null,
  };
  const missing = Object.entries(facts).filter(([, v]) => v === null || v === 0 || v === '').map(([k]) => k);
  if (missing.length) throw new Unavailable(`policies not in effect (${missing.join(', ')}): ${JSON.stringify(facts)}`);
  return facts;
};

/** Brings up the chain as weft-2hop does, with the policy snapshots, and checks they are in effect. */
export const upWeftPolicies = async (ctx, cfg) => {
  const chain = await upWeft(ctx, cfg);
  const [a, b] = chain.proxies.map((p) => p.proc);
  chain.policies = await checkPolicies(a, b);
  ctx.say(`${cfg.name}: policies in effect: ${JSON.stringify(chain.policies)}`);
  return chain;
};
