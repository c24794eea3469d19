// The control plane's REST API, as the control-plane benchmark uses it: PUT one resource
// (what `weft apply` does for one document), with the admin token, over loopback.

import http from 'node:http';
import { performance } from 'node:perf_hooks';

const PLURAL = { Service: 'services', HTTPRoute: 'httproutes' };

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now();

/** One request; resolves {status, body}. */
export const request = (port, method, path, token, body, timeoutMs = 10_000) =>
  new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        timeout: timeoutMs,
        headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
      },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (out += d));
        res.on('end', () => resolve({ status: res.statusCode, body: out }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(data);
  });

/**
 * PUTs a resource; throws on a status other than 200/201. Resolves the time just before
 * the request was written (the start of the measured interval) and the reply time.
 */
export const put = async (port, token, doc) => {
  const path = `/api/v1/${PLURAL[doc.kind]}/${doc.metadata.namespace}/${doc.metadata.name}`;
  const sentAt = now();
  const r = await request(port, 'PUT', path, token, doc);
  if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${path}: ${r.status} ${r.body.slice(0, 500)}`);
  return { sentAt, repliedAt: now() };
};

export const service = (namespace, name, port = 80) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { ports: [{ name: 'http', port, appProtocol: 'http' }] },
});

/** An HTTPRoute on `backend` splitting between backend-a and backend-b: weight changes every proxy calling backend. */
export const splitRoute = (namespace, weightA) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'backend', namespace },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'backend', port: 80 }],
    rules: [
      {
        name: 'split',
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [
          { name: 'backend-a', port: 80, weight: weightA },
          { name: 'backend-b', port: 80, weight: 100 - weightA },
        ],
      },
    ],
  },
});
