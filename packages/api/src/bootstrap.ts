import {
  _default,
  array,
  gte,
  int,
  lte,
  minLength,
  number,
  optional,
  pipe,
  record,
  regex,
  strictObject,
  string,
  transform,
  type Infer,
  type Input,
} from './zod-mini.js';
import { AppProtocolSchema } from './snapshot.js';

const port = number().check(int(), gte(0), lte(65535));

/** `NAME:LOCALPORT` or `NAME.NAMESPACE:LOCALPORT`: an explicit outbound listener on loopback. */
export const UpstreamFlagSchema = pipe(
  pipe(
    string().check(regex(/^[a-z0-9][-a-z0-9.]*:\d{1,5}$/, 'must be NAME:LOCALPORT, e.g. reviews:9001')),
    transform((s: string) => {
      const i = s.lastIndexOf(':');
      return { service: s.slice(0, i), port: Number(s.slice(i + 1)) };
    }),
  ),
  strictObject({ service: string(), port }),
);
export type UpstreamFlag = Infer<typeof UpstreamFlagSchema>;

/**
 * What a proxy knows about itself before any snapshot arrives: who it is and where it
 * listens. It comes from flags and environment, never from the control plane, so that the
 * local wiring of a sidecar cannot be changed remotely.
 */
export const ProxyBootstrapSchema = strictObject({
  service: string().check(minLength(1)),
  namespace: _default(string().check(minLength(1)), 'default'),
  /** Mesh-facing inbound port; 0 picks a free one. */
  port: _default(port, 0),
  /** Where the local application listens. Omitted for a client-only workload. */
  appPort: optional(port.check(gte(1))),
  appHost: _default(string(), '127.0.0.1'),
  /** The protocol the local application speaks on `appPort`. */
  appProtocol: _default(AppProtocolSchema, 'http'),
  /** Host the mesh-facing listener binds. */
  listenHost: _default(string(), '127.0.0.1'),
  upstreams: _default(array(strictObject({ service: string(), port })), []),
  /** Outbound HTTP proxy listener for apps that set HTTP_PROXY; 0 picks a free one. */
  httpProxyPort: optional(port),
  adminPort: _default(port, 0),
  adminHost: _default(string(), '127.0.0.1'),
  /** How long a drain waits for in-flight work before closing what is left. */
  drainTimeoutMs: _default(number().check(int(), gte(0)), 10_000),
  /** Workload labels reported with metrics and used by the control plane (version, zone). */
  labels: _default(record(string(), string()), {}),
});
export type ProxyBootstrap = Infer<typeof ProxyBootstrapSchema>;
export type ProxyBootstrapInput = Input<typeof ProxyBootstrapSchema>;
