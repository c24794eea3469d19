import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, test } from 'node:test';
import { createTmpDir, type TmpDir } from '@weft/testing';
import { makeCsr, makeRootCa, makeSignedCert, opensslCaHash, verifyChain, writeTemp, type OpensslCert } from '../../test/fixtures/ca-fixtures.js';
import { CertificateAuthority } from './index.js';

/**
 * A plug-in CA: the organisation's intermediate (made here with openssl, as a user would)
 * signs workload certificates; the organisation's root is the trust anchor.
 */

const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/default/sa/web`;
const HOUR = 3600_000;

const certs = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];

const rejectsWith = (code: string, file: string, message: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof Error && 'code' in err, String(err));
  assert.equal(err.code, code, err.message);
  assert.ok(err.message.includes(file), `the message names ${file}: ${err.message}`);
  assert.match(err.message, message);
  return true;
};

/** An organisation root and an intermediate below it, and the chain file a user writes. */
const orgCa = async (dir: TmpDir): Promise<{ root: OpensslCert; inter: OpensslCert; chainFile: string }> => {
  const root = await makeRootCa(dir.path, 'Example Org Root');
  const inter = await makeSignedCert(dir.path, root, 'Example Org Mesh Intermediate');
  return { root, inter, chainFile: await writeTemp(dir.path, '.pem', inter.certPem + root.certPem) };
};

describe('CertificateAuthority, plug-in', () => {
  test('signs with the intermediate: chains are [leaf, intermediate], the bundle is the org root', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-plug', t });
    const { root, inter, chainFile } = await orgCa(dir);
    const ca = await CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: inter.keyFile });
    assert.equal(ca.mode, 'plug-in');
    assert.deepEqual(ca.trustBundle, [new X509Certificate(root.certPem).toString()]);
    assert.equal(ca.caHash, await opensslCaHash(dir.path, root.certPem));
    assert.equal(await readFile(dir.join('data', 'ca', 'ca.crt'), 'utf8'), ca.trustBundle.join(''));

    const csr = await makeCsr(dir.path, { san: `URI:${WEB}` });
    const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: HOUR });
    const chain = certs(issued.chainPem);
    assert.equal(chain.length, 2);
    assert.equal(new X509Certificate(chain[1] ?? '').subject, new X509Certificate(inter.certPem).subject);
    const leaf = new X509Certificate(chain[0] ?? '');
    assert.equal(leaf.issuer, new X509Certificate(inter.certPem).subject);
    const r = await verifyChain(dir.path, root.certPem, issued.chainPem);
    assert.ok(r.ok, r.stderr);
    const alone = await verifyChain(dir.path, root.certPem, chain[0] ?? '');
    assert.ok(!alone.ok, 'without the intermediate the leaf does not verify: the chain must carry it');

    const server = await ca.issueServerCertificate({ hosts: ['127.0.0.1'], lifetimeMs: HOUR });
    assert.equal(certs(server.chainPem).length, 2);
    assert.ok((await verifyChain(dir.path, root.certPem, server.chainPem, { purpose: 'sslserver' })).ok);
  });

  test('two intermediates, an RSA organisation root: chains carry both intermediates', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-plug', t });
    const root = await makeRootCa(dir.path, 'Example Org Root', 'rsa');
    const policy = await makeSignedCert(dir.path, root, 'Example Org Policy CA', { key: 'rsa' });
    const mesh = await makeSignedCert(dir.path, policy, 'Example Org Mesh CA');
    const chainFile = await writeTemp(dir.path, '.pem', mesh.certPem + policy.certPem + root.certPem);
    const ca = await CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: mesh.keyFile });
    const csr = await makeCsr(dir.path);
    const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: HOUR });
    assert.equal(certs(issued.chainPem).length, 3);
    const r = await verifyChain(dir.path, root.certPem, issued.chainPem);
    assert.ok(r.ok, r.stderr);
    const expiries = ca.expiries();
    assert.deepEqual(
      expiries.map((e) => [e.role, e.subject.replace(/^O=Example Org, /, ''), e.signing]),
      [
        ['root', 'CN=Example Org Root', true],
        ['intermediate', 'CN=Example Org Mesh CA', true],
        ['intermediate', 'CN=Example Org Policy CA', false],
      ],
    );
    assert.ok(expiries.every((e) => e.daysLeft >= 364));
  });

  test('an RSA intermediate key signs too', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-plug', t });
    const root = await makeRootCa(dir.path, 'Example Org Root');
    const inter = await makeSignedCert(dir.path, root, 'Example Org RSA Intermediate', { key: 'rsa' });
    const ca = await CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: await writeTemp(dir.path, '.pem', inter.certPem + root.certPem), caKeyFile: inter.keyFile });
    const issued = await ca.issueWorkloadCertificate({ csrPem: (await makeCsr(dir.path)).csrPem, spiffeId: WEB, lifetimeMs: HOUR });
    assert.ok((await verifyChain(dir.path, root.certPem, issued.chainPem)).ok);
  });

  test('leaves end with the intermediate: lifetimes are capped by the shortest certificate of the chain', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-plug', t });
    const root = await makeRootCa(dir.path, 'Example Org Root');
    const inter = await makeSignedCert(dir.path, root, 'Short Intermediate', { days: 2 });
    const ca = await CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: await writeTemp(dir.path, '.pem', inter.certPem + root.certPem), caKeyFile: inter.keyFile });
    const issued = await ca.issueWorkloadCertificate({ csrPem: (await makeCsr(dir.path)).csrPem, spiffeId: WEB, lifetimeMs: 30 * 24 * HOUR });
    assert.equal(issued.notAfter.getTime(), Date.parse(new X509Certificate(inter.certPem).validTo));
  });

  test('a TLS 1.3 peer that trusts only the org root accepts a leaf sent with its intermediate', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-plug', t });
    const { root, inter, chainFile } = await orgCa(dir);
    const ca = await CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: inter.keyFile });
    const serverCsr = await makeCsr(dir.path);
    const clientCsr = await makeCsr(dir.path);
    const serverCert = await ca.issueWorkloadCertificate({ csrPem: serverCsr.csrPem, spiffeId: `spiffe://${TD}/ns/default/sa/reviews`, lifetimeMs: HOUR });
    const clientCert = await ca.issueWorkloadCertificate({ csrPem: clientCsr.csrPem, spiffeId: WEB, lifetimeMs: HOUR });
    let serverSaw = '';
    const srv = createServer({ key: serverCsr.keyPem, cert: serverCert.chainPem, ca: root.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => {
      serverSaw = s.getPeerCertificate().subjectaltname ?? '';
      s.end('ok');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => srv.close(() => r())));
    const read = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, key: clientCsr.keyPem, cert: clientCert.chainPem, ca: root.certPem, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
      let data = '';
      c.on('data', (b: Buffer) => (data += b.toString()));
      c.on('error', reject);
      c.on('close', () => resolve(data));
    });
    assert.equal(read, 'ok');
    assert.equal(serverSaw, `URI:${WEB}`);
  });

  test('rotation is refused: a plug-in CA is rotated by replacing its files', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-plug', t });
    const { inter, chainFile } = await orgCa(dir);
    const ca = await CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: inter.keyFile });
    for (const step of [() => ca.beginRotation(), () => ca.activateNext(), () => ca.retireOld()]) {
      await assert.rejects(step(), (err: Error & { code?: string }) => err.code === 'WEFT_ERR_CA_ROTATION_UNSUPPORTED' && /replacing the certificate and key files/.test(err.message));
    }
    assert.equal(ca.rotationState().phase, 'idle');
    assert.deepEqual(
      ca.rotationState().roots.map((r) => [r.caHash, r.signing, r.trusted]),
      [[ca.caHash, true, true]],
    );
  });

  describe('refuses on open, naming the file and the reason', () => {
    test('a key that is not the intermediate\'s', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-plug', t });
      const { root, chainFile } = await orgCa(dir);
      await assert.rejects(
        CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: root.keyFile }),
        rejectsWith('WEFT_ERR_CA_FILES_INVALID', root.keyFile, /is not the key of the first certificate/),
      );
    });

    test('a first certificate that is not a CA', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-plug', t });
      const root = await makeRootCa(dir.path, 'Example Org Root');
      const leaf = await makeSignedCert(dir.path, root, 'not a ca', { ca: false });
      const file = await writeTemp(dir.path, '.pem', leaf.certPem + root.certPem);
      await assert.rejects(
        CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: file, caKeyFile: leaf.keyFile }),
        rejectsWith('WEFT_ERR_CA_FILES_INVALID', file, /first certificate .* is not a CA certificate/),
      );
    });

    test('a chain that does not verify: the intermediate followed by another root', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-plug', t });
      const { inter } = await orgCa(dir);
      const stranger = await makeRootCa(dir.path, 'Example Org Root');
      const file = await writeTemp(dir.path, '.pem', inter.certPem + stranger.certPem);
      await assert.rejects(
        CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: file, caKeyFile: inter.keyFile }),
        rejectsWith('WEFT_ERR_CA_FILES_INVALID', file, /is not signed by the next one/),
      );
    });

    test('a chain that stops short of the root', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-plug', t });
      const { inter } = await orgCa(dir);
      await assert.rejects(
        CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: inter.certFile, caKeyFile: inter.keyFile }),
        rejectsWith('WEFT_ERR_CA_FILES_INVALID', inter.certFile, /not a self-signed root: append the certificates up to and including/),
      );
    });

    test('an expired intermediate', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-plug', t });
      const { inter, chainFile } = await orgCa(dir);
      const later = new Date(Date.parse(new X509Certificate(inter.certPem).validTo) + 1000);
      await assert.rejects(
        CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: inter.keyFile, clock: () => later }),
        rejectsWith('WEFT_ERR_CA_FILES_INVALID', chainFile, /expired at/),
      );
    });

    test('files that hold no certificate or no key, and missing files', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-plug', t });
      const { inter, chainFile } = await orgCa(dir);
      const empty = await writeTemp(dir.path, '.pem', 'nothing here');
      await assert.rejects(CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: empty, caKeyFile: inter.keyFile }), rejectsWith('WEFT_ERR_CA_FILES_INVALID', empty, /holds no PEM certificate/));
      await assert.rejects(CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: chainFile, caKeyFile: chainFile }), rejectsWith('WEFT_ERR_CA_FILES_INVALID', chainFile, /not a PEM private key/));
      const missing = dir.join('missing.pem');
      await assert.rejects(CertificateAuthority.open({ dataDir: dir.join('data'), trustDomain: TD, caCertFile: missing, caKeyFile: inter.keyFile }), rejectsWith('WEFT_ERR_CONFIG_READ', missing, /ENOENT/));
    });
  });
});
