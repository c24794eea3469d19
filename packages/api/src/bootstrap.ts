import { z } from 'zod';
import { AppProtocolSchema } from './snapshot.js';

const port = z.number().int().min(0).max(65535);

/** `NAME:LOCALPORT` or `NAME.NAMESPACE:LOCALPORT`: an explicit outbound listener on loopback. */
export const UpstreamFlagSchema = z
  .string()
  .regex(/^[a-z0-9][-a-z0-9.]*:\d{1,5}$/, 'must be NAME:LOCALPORT, e.g. reviews:9001')
  .transform((s) => {
    const i = s.lastIndexOf(':');
    return { service: s.slice(0, i), port: Number(s.slice(i + 1)) };
  })
  .pipe(z.strictObject({ service: z.string(), port }));
export type UpstreamFlag = z.infer<typeof UpstreamFlagSchema>;

/**
 * What a proxy knows about itself before any snapshot arrives: who it is and where it
 * listens. It comes from flags and environment, never from the control plane, so that the
 * local wiring of a sidecar cannot be changed remotely.
 */
export const ProxyBootstrapSchema = z.strictObject({
  service: z.string().min(1),
  namespace: z.string().min(1).default('default'),
  /** Mesh-facing inbound port; 0 picks a free one. */
  port: port.default(0),
  /** Where the local application listens. Omitted for a client-only workload. */
  appPort: port.min(1).optional(),
  appHost: z.string().default('127.0.0.1'),
  /** The protocol the local application speaks on `appPort`. */
  appProtocol: AppProtocolSchema.default('http'),
  /** Host the mesh-facing listener binds. */
  listenHost: z.string().default('127.0.0.1'),
  upstreams: z.array(z.strictObject({ service: z.string(), port })).default([]),
  /** Outbound HTTP proxy listener for apps that set HTTP_PROXY; 0 picks a free one. */
  httpProxyPort: port.optional(),
  adminPort: port.default(0),
  adminHost: z.string().default('127.0.0.1'),
  /** How long a drain waits for in-flight work before closing what is left. */
  drainTimeoutMs: z.number().int().min(0).default(10_000),
  /** Workload labels reported with metrics and used by the control plane (version, zone). */
  labels: z.record(z.string(), z.string()).default({}),
});
export type ProxyBootstrap = z.infer<typeof ProxyBootstrapSchema>;
export type ProxyBootstrapInput = z.input<typeof ProxyBootstrapSchema>;
