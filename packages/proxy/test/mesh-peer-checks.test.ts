/**
 * The data path's own checks of a peer, with certificates from Weft's CA and real proxies:
 * a caller refuses an endpoint whose proxy presents another service's certificate (the
 * SPIFFE ID the snapshot names for that endpoint is checked, not only the chain), and a
 * mesh port refuses a client certificate that has expired.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { CertificateAuthority } from '@weft/control-plane/ca';
import { createTmpDir, freePort, startHttp1Echo, type TmpDir } from '@weft/testing';
import { createKeyAndCsr } from '../src/identity/key-and-csr.js';
import { snapshot, startProxy, upstreamPortOf } from './http1-mesh-fixture.js';

const DAY = 24 * 3600 * 1000;

/** A workload certificate for `service`, issued by `ca`, written to files for a static-TLS proxy. */
const issue = async (ca: CertificateAuthority, dir: TmpDir, service: string, lifetimeMs = DAY): Promise<{ certFile: string; keyFile: string; keyPem: string; chainPem: string }> => {
  const spiffeId = `spiffe://cluster.local/ns/default/sa/${service}`;
  const { keyPem, csrPem } = await createKeyAndCsr(spiffeId);
  const { chainPem } = await ca.issueWorkloadCertificate({ csrPem, spiffeId, lifetimeMs });
  const certFile = dir.join(`${service}.crt`);
  const keyFile = dir.join(`${service}.key`);
  await writeFile(certFile, chainPem);
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  return { certFile, keyFile, keyPem, chainPem };
};

test('a caller refuses an endpoint presenting another identity; a mesh port refuses an expired client certificate', { timeout: 60_000 }, async (t) => {
  const dir = await createTmpDir({ prefix: 'peer-checks', t });
  // A CA whose clock is two days behind issues the expired certificate; the same CA (its
  // root on disk) reopened on the real clock issues the others.
  const past = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: 'cluster.local', clock: () => new Date(Date.now() - 2 * DAY) });
  const expired = await issue(past, dir, 'expired', 3600 * 1000);
  const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: 'cluster.local' });
  const caFile = dir.join('bundle.crt');
  await writeFile(caFile, ca.trustBundle.join(''));
  const web = await issue(ca, dir, 'web');
  const ratings = await issue(ca, dir, 'ratings');

  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  // The callee serves with the ratings certificate; the caller's snapshot says it must be echo.
  const inboundPort = await freePort();
  const callee = await startProxy(
    t,
    dir,
    snapshot({ services: [{ name: 'echo' }], transport: { tls: { mode: 'static', certFile: ratings.certFile, keyFile: ratings.keyFile, caFile } } }),
    ['--service', 'echo', '--port', String(inboundPort), '--app-port', String(app.port)],
  );
  const callerFor = async (identity: string): Promise<number> => {
    const caller = await startProxy(
      t,
      dir,
      {
        ...snapshot({ services: [{ name: 'echo' }], transport: { tls: { mode: 'static', certFile: web.certFile, keyFile: web.keyFile, caFile } } }),
        endpoints: { 'echo.default': [{ address: '127.0.0.1', port: inboundPort, identity }] },
      },
      ['--service', 'web', '--upstream', 'echo:0'],
    );
    return upstreamPortOf(caller, 'echo');
  };

  const wrong = await fetch(`http://127.0.0.1:${await callerFor('spiffe://cluster.local/ns/default/sa/echo')}/hello`);
  assert.equal(wrong.status, 503);
  assert.match(
    wrong.headers.get('x-weft-error') ?? '',
    /WEFT_ERR_PROXY_UPSTREAM_CONNECT \(UF\).*peer identity refused: expected spiffe:\/\/cluster\.local\/ns\/default\/sa\/echo, the certificate names spiffe:\/\/cluster\.local\/ns\/default\/sa\/ratings/,
  );
  // The same endpoint, expected as what it is: served.
  const right = await fetch(`http://127.0.0.1:${await callerFor('spiffe://cluster.local/ns/default/sa/ratings')}/hello`);
  assert.equal(right.status, 200);
  assert.equal(right.headers.get('x-served-by'), 'app');

  // An expired client certificate from the right CA: the handshake is refused, nothing is
  // served; the same client with a valid certificate is answered.
  const ask = (cert: { keyPem: string; chainPem: string }): Promise<string> =>
    new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: callee.ports.inbound ?? 0, key: cert.keyPem, cert: cert.chainPem, ca: ca.trustBundle, checkServerIdentity: () => undefined });
      let got = '';
      s.on('secureConnect', () => s.write('GET /hello HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n'));
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('error', (err) => resolve(`error: ${err.message}`));
      s.on('close', () => resolve(got === '' ? 'closed without an answer' : got));
    });
  assert.match(await ask(web), /^HTTP\/1\.1 200/);
  const outcome = await ask(expired);
  assert.doesNotMatch(outcome, /HTTP\/1\.1 \d{3}/, `an expired certificate got an answer: ${outcome}`);
  assert.match(outcome, /expired|closed without an answer|alert/i);
});
