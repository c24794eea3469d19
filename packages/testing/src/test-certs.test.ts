import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { listenOnFreePort } from './listen.js';
import { createTestPki } from './test-certs.js';
import { createTmpDir } from './tmp-dir.js';

const run = promisify(execFile);

test('leaves verify against the CA with openssl; the untrusted cert does not', async (t) => {
  const dir = await createTmpDir({ prefix: 'pki', t });
  const pki = await createTestPki(dir.path, ['web', 'api.ns']);
  for (const name of ['web', 'api.ns']) {
    const { stdout } = await run('openssl', ['verify', '-CAfile', pki.ca.cert, pki.leaf(name).cert]);
    assert.match(stdout, /: OK$/m);
  }
  await assert.rejects(run('openssl', ['verify', '-CAfile', pki.ca.cert, pki.untrusted.cert]));
});

test('leaves carry the DNS, SPIFFE URI and loopback IP SANs on a P-256 key', async (t) => {
  const dir = await createTmpDir({ prefix: 'pki', t });
  const pki = await createTestPki(dir.path, ['web'], { trustDomain: 'example.org' });
  const leaf = pki.leaf('web');
  assert.equal(leaf.spiffeId, 'spiffe://example.org/ns/default/sa/web');
  const cert = new X509Certificate(readFileSync(leaf.cert));
  const ca = new X509Certificate(readFileSync(pki.ca.cert));
  assert.equal(cert.subjectAltName, 'DNS:web, URI:spiffe://example.org/ns/default/sa/web, IP Address:127.0.0.1');
  assert.ok(cert.checkIssued(ca));
  assert.ok(cert.verify(ca.publicKey));
  assert.equal(ca.ca, true);
  assert.equal(cert.ca, false);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.throws(() => pki.leaf('missing'), /no leaf named missing/);
});

test('the certificates make an mTLS handshake that rejects the untrusted client', async (t) => {
  const dir = await createTmpDir({ prefix: 'pki', t });
  const pki = await createTestPki(dir.path, ['server', 'client']);
  const server = createServer({ ...pki.tls('server'), requestCert: true, rejectUnauthorized: true }, (s) => {
    s.end(`hello ${s.getPeerX509Certificate()?.subjectAltName ?? ''}`);
  });
  server.on('tlsClientError', () => {});
  const port = await listenOnFreePort(server, '127.0.0.1');
  t.after(() => server.close());

  const hello = await new Promise<string>((resolve, reject) => {
    const s: TLSSocket = connect({ port, host: '127.0.0.1', servername: 'server', ...pki.tls('client') });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
  assert.match(hello, /URI:spiffe:\/\/test\.local\/ns\/default\/sa\/client/);

  // With TLS 1.3 the client may finish its handshake before the server rejects its
  // certificate, so the proof is that it is never served, not that connect() fails.
  const untrusted = await new Promise<string>((resolve) => {
    const s = connect({ port, host: '127.0.0.1', servername: 'server', ...pki.tls('untrusted') });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (text += c));
    s.on('error', (err) => resolve(`error: ${err.message}`));
    s.on('close', () => resolve(text));
  });
  assert.doesNotMatch(untrusted, /hello/);
});
