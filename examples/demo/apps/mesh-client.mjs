// How the demo's Node apps call other services through their sidecar. There is no mesh
// library here on purpose: an app either calls the explicit outbound listener its sidecar
// opened for a service (`weft proxy --upstream catalog:PORT`, given to the app as
// UPSTREAM_CATALOG=127.0.0.1:PORT), or sends a plain proxy request to the sidecar's HTTP
// proxy listener (HTTP_PROXY), naming the service in the URL: `GET http://reviews/...`.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

const upstreamOf = (service) => process.env[`UPSTREAM_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`];
const httpProxy = () => process.env.HTTP_PROXY ?? process.env.http_proxy;

/** How calls to `service` leave this app, for display: "upstream 127.0.0.1:9001" or "HTTP_PROXY ...". */
export const routeOf = (service) => {
  const up = upstreamOf(service);
  if (up) return `explicit upstream listener ${up}`;
  const proxy = httpProxy();
  if (proxy) return `HTTP_PROXY ${proxy}`;
  return 'no route (neither UPSTREAM_* nor HTTP_PROXY is set)';
};

/**
 * GET `path` of `service` through the sidecar; resolves with { status, headers, json, text }
 * (json when the body parses), rejects on a network error or after `timeoutMs`.
 */
export const getFrom = (service, path, { timeoutMs = 5000, headers = {} } = {}) =>
  new Promise((resolve, reject) => {
    const up = upstreamOf(service);
    let options;
    if (up) {
      const [host, port] = up.split(':');
      options = { host, port: Number(port), path, headers: { host: service, ...headers } };
    } else {
      const proxy = httpProxy();
      if (!proxy) {
        reject(new Error(`no way to reach ${service}: set UPSTREAM_${service.toUpperCase()} or HTTP_PROXY`));
        return;
      }
      const p = new URL(proxy);
      // Absolute-form request line, as any HTTP client configured with a proxy sends it.
      options = { host: p.hostname, port: Number(p.port || 80), path: `http://${service}${path}`, headers: { host: service, ...headers } };
    }
    const req = http.request({ ...options, method: 'GET', agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms calling ${service}${path}`)));
    req.on('error', reject);
    req.end();
  });

/** Why a call failed, in one line: the mesh's `x-weft-error` when the sidecar answered. */
export const failureOf = (result) =>
  result.headers?.['x-weft-error'] ? `${result.status} ${result.headers['x-weft-error']}` : `HTTP ${result.status}`;
