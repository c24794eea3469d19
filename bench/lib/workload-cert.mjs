// A workload certificate for simulated proxies, obtained as a real proxy does: a join token
// from the REST API, a key and CSR from the proxy's own generator (bundle/csr-child.js), the
// trust bundle pinned by the token's CA hash, and `POST /weft.v1.Identity/Issue` over TLS.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import path from 'node:path';
import { createJoinToken } from './mtls-config.mjs';

const h2 = (port, tlsOptions, method, reqPath, headers = {}, body) =>
  new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ...tlsOptions, ALPNProtocols: ['h2'], minVersion: 'TLSv1.3' });
    session.on('error', reject);
    const req = session.request({ ':method': method, ':path': reqPath, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
    let text = '';
    let status = 0;
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      session.close();
      if (status !== 200) reject(new Error(`${reqPath} answered ${status}: ${text.slice(0, 300)}`));
      else resolve(JSON.parse(text));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });

const spkiHash = (pem) => `sha256:${createHash('sha256').update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;

/** {key, cert, ca} for a simulated proxy of `service` in `namespace`. */
export const workloadCertificate = async ({ root, apiPort, streamPort, adminToken, service, namespace }) => {
  const token = await createJoinToken({ api: apiPort, adminToken }, service, '1h', namespace);
  const pin = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).ca;
  const { keyPem, csrPem } = JSON.parse(execFileSync(process.execPath, [path.join(root, 'packages/cli/bundle/csr-child.js')], { encoding: 'utf8' }));
  const bundle = await h2(streamPort, { rejectUnauthorized: false }, 'GET', '/weft.v1.Identity/TrustBundle');
  if (!bundle.trustBundle.some((pem) => spkiHash(pem) === pin)) throw new Error('the trust bundle does not match the token');
  const verified = { ca: bundle.trustBundle, checkServerIdentity: () => undefined };
  const issued = await h2(streamPort, verified, 'POST', '/weft.v1.Identity/Issue', { authorization: `Bearer ${token}` }, { service, namespace, csrPem });
  return { key: keyPem, cert: issued.chainPem, ca: bundle.trustBundle };
};
