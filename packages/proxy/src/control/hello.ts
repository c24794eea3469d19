import type { CertificateReport, Hello, ProxyBootstrap } from '@weft/api/data-plane';

/** Who the proxy says it is, beyond its bootstrap. */
export interface HelloIdentity {
  /** Workload name (see `defaultWorkloadName`). */
  readonly workload: string;
  /** Where other proxies reach this one (see `advertisedAddress`). */
  readonly address: string;
  /** The version the proxy runs now, if any (from its cache or an earlier stream). */
  readonly lastVersion?: string | undefined;
  readonly token?: string | undefined;
  /** The workload certificate the proxy serves with now. */
  readonly certificate?: CertificateReport | undefined;
}

/** The proxy's version, sent in the hello. */
export const PROXY_VERSION = '0.1.0';

/**
 * The hello of a proxy: its workload from the bootstrap (service, namespace, labels, app
 * protocol), its inbound mesh port (`bootstrap.port`, which must be resolved: not 0), the
 * services of its `--upstream` listeners, and `allServices` when it has an HTTP proxy
 * listener (its app may then call any service).
 */
export const helloFromBootstrap = (bootstrap: ProxyBootstrap, id: HelloIdentity): Hello => ({
  type: 'hello',
  workload: id.workload,
  service: bootstrap.service,
  namespace: bootstrap.namespace,
  address: id.address,
  port: bootstrap.port,
  appProtocol: bootstrap.appProtocol,
  labels: { ...bootstrap.labels },
  upstreams: bootstrap.upstreams.map((u) => u.service),
  allServices: bootstrap.httpProxyPort !== undefined,
  ...(id.lastVersion === undefined ? {} : { lastVersion: id.lastVersion }),
  ...(id.token === undefined ? {} : { token: id.token }),
  ...(id.certificate === undefined ? {} : { certificate: id.certificate }),
  proxyVersion: PROXY_VERSION,
});
