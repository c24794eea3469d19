import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createTmpDir } from '@weft/testing';
import { makeCsr, opensslCaHash, verifyChain, x509Text } from '../../test/fixtures/ca-fixtures.js';
import { CertificateAuthority } from './index.js';

const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/default/sa/web`;
const HOUR = 3600_000;

/** A clock the test moves by hand. */
const fakeClock = (start = new Date()): { now: () => Date; advance: (ms: number) => void; set: (d: Date) => void } => {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => (t += ms), set: (d) => (t = d.getTime()) };
};

const certs = (pem: string): X509Certificate[] => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));

const codeOf = (code: string) => (err: unknown): boolean => {
  assert.ok(err instanceof Error && 'code' in err, `expected a WeftError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

describe('CertificateAuthority, self-managed', () => {
  test('first open makes an ECDSA P-256 root of ten years in <dataDir>/ca (0700), its key 0600; the hash is kubeadm\'s', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const clock = fakeClock();
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD, clock: clock.now });
    assert.equal(ca.mode, 'self-managed');
    assert.equal(ca.trustBundle.length, 1);
    const root = new X509Certificate(ca.trustBundle[0] ?? '');
    assert.equal(root.subject, `CN=Weft Root CA ${TD}`);
    assert.equal(root.ca, true);
    assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (Date.parse(root.validTo) - clock.now().getTime()) / (365.25 * 24 * HOUR);
    assert.ok(years > 9.99 && years < 10.01, `valid for ${years} years`);

    const text = await x509Text(dir.path, ca.trustBundle[0] ?? '');
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);

    assert.match(ca.caHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(ca.caHash, await opensslCaHash(dir.path, ca.trustBundle[0] ?? ''));

    const caDir = dir.join('ca');
    assert.equal((await stat(caDir)).mode & 0o777, 0o700);
    const names = await readdir(caDir);
    const keyFile = names.find((n) => n.endsWith('.key'));
    assert.ok(keyFile !== undefined, `a key file in ${names.join(', ')}`);
    assert.equal((await stat(join(caDir, keyFile))).mode & 0o777, 0o600);
    assert.ok(!names.some((n) => n.endsWith('.tmp')), 'no temporary file left');
    assert.equal(await readFile(join(caDir, 'ca.crt'), 'utf8'), ca.trustBundle.join(''), 'ca.crt holds the trust bundle');
    // The key on disk is the root's key.
    const key = createPrivateKey(await readFile(join(caDir, keyFile), 'utf8'));
    assert.ok(createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(root.publicKey.export({ type: 'spki', format: 'der' })));
  });

  test('later opens load the same root and make no new files', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const first = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    const files = (await readdir(dir.join('ca'))).sort();
    const second = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    assert.equal(second.caHash, first.caHash);
    assert.deepEqual(second.trustBundle, first.trustBundle);
    assert.deepEqual((await readdir(dir.join('ca'))).sort(), files);
  });

  test('no API returns the root key', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    const csr = await makeCsr(dir.path);
    const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: HOUR });
    const everything = JSON.stringify([ca.trustBundle, ca.caHash, ca.rotationState(), ca.expiries(), issued]);
    assert.doesNotMatch(everything, /PRIVATE KEY/);
  });

  test('a workload certificate verifies with openssl and is an X.509-SVID: one URI SAN, both EKUs, cA false, AKI and SKI', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const clock = fakeClock();
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD, clock: clock.now });
    for (const san of [undefined, `URI:${WEB}`]) {
      const csr = await makeCsr(dir.path, san === undefined ? {} : { san });
      const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: 24 * HOUR });
      const chain = certs(issued.chainPem);
      assert.equal(chain.length, 1, 'a self-managed CA sends the leaf alone');
      const leaf = chain[0] as X509Certificate;
      const verified = await verifyChain(dir.path, ca.trustBundle.join(''), issued.chainPem, { at: clock.now() });
      assert.ok(verified.ok, verified.stdout + verified.stderr);
      for (const purpose of ['sslclient', 'sslserver']) {
        const r = await verifyChain(dir.path, ca.trustBundle.join(''), issued.chainPem, { at: clock.now(), purpose });
        assert.ok(r.ok, `${purpose}: ${r.stderr}`);
      }
      assert.equal(leaf.subjectAltName, `URI:${WEB}`);
      assert.equal(leaf.subject, `O=${TD}`);
      const text = await x509Text(dir.path, issued.chainPem);
      assert.equal(text.match(/URI:/g)?.length, 1, 'exactly one URI SAN');
      assert.doesNotMatch(text, /DNS:|IP Address:/);
      assert.match(text, /Subject: O = example.org\n/, 'the CSR subject is not copied');
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
      assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, /X509v3 Authority Key Identifier/);
      assert.match(text, /X509v3 Subject Key Identifier/);
      assert.ok(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(csr.keyPem).export({ type: 'spki', format: 'der' })), 'the leaf certifies the CSR key');
      // Times: a minute of clock skew before now, the lifetime after.
      assert.equal(issued.notBefore.getTime(), Math.floor((clock.now().getTime() - 60_000) / 1000) * 1000);
      assert.equal(issued.notAfter.getTime(), Math.floor((clock.now().getTime() + 24 * HOUR) / 1000) * 1000);
      assert.equal(Date.parse(leaf.validTo), issued.notAfter.getTime());
      // The same number, however many leading zero digits either side writes.
      assert.equal(leaf.serialNumber.replace(/^0+/, ''), issued.serialNumber.replace(/^0+/, ''));
    }
  });

  test('serial numbers are random, positive and up to 128 bits', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    const csr = await makeCsr(dir.path);
    const serials = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: HOUR });
      const text = await x509Text(dir.path, issued.chainPem);
      assert.doesNotMatch(text, /Serial Number:.*\(Negative\)/);
      const hex = issued.serialNumber;
      assert.match(hex, /^[0-9A-F]{31,32}$/, hex);
      serials.add(hex);
    }
    assert.equal(serials.size, 24);
  });

  test('lifetimes end at the root\'s notAfter; an expired root signs nothing', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const clock = fakeClock();
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD, clock: clock.now });
    const rootEnd = Date.parse(new X509Certificate(ca.trustBundle[0] ?? '').validTo);
    const csr = await makeCsr(dir.path);
    clock.set(new Date(rootEnd - HOUR));
    const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: 24 * HOUR });
    assert.equal(issued.notAfter.getTime(), rootEnd);
    const expiry = ca.expiries()[0];
    assert.equal(expiry?.daysLeft, 0);
    clock.set(new Date(rootEnd + 1000));
    await assert.rejects(ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: HOUR }), codeOf('WEFT_ERR_CA_EXPIRED'));
    assert.ok((ca.expiries()[0]?.daysLeft ?? 0) < 0);
  });

  test('expiries: the root with subject, notAfter and days left, moving with the clock', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const clock = fakeClock();
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD, clock: clock.now });
    const [root, ...rest] = ca.expiries();
    assert.equal(rest.length, 0);
    assert.equal(root?.role, 'root');
    assert.equal(root?.subject, `CN=Weft Root CA ${TD}`);
    assert.equal(root?.caHash, ca.caHash);
    assert.equal(root?.signing, true);
    assert.ok((root?.daysLeft ?? 0) >= 3650 && (root?.daysLeft ?? 0) <= 3653);
    clock.advance(3640 * 24 * HOUR);
    const later = ca.expiries()[0]?.daysLeft ?? 0;
    assert.ok(later >= 10 && later <= 13, String(later));
  });

  describe('refuses CSRs', () => {
    const refuse = async (t: { after: (fn: () => Promise<void>) => void }, csrPem: string | Promise<string>, code: string, message?: RegExp, spiffeId = WEB): Promise<void> => {
      const dir = await createTmpDir({ prefix: 'ca', t });
      const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
      await assert.rejects(ca.issueWorkloadCertificate({ csrPem: await csrPem, spiffeId, lifetimeMs: HOUR }), (err: Error & { code?: string }) => {
        assert.equal(err.code, code, err.message);
        if (message !== undefined) assert.match(err.message, message);
        return true;
      });
    };
    const csrIn = async (t: { after: (fn: () => Promise<void>) => void }, opts: Parameters<typeof makeCsr>[1]): Promise<string> =>
      (await makeCsr((await createTmpDir({ prefix: 'csr', t })).path, opts)).csrPem;

    test('for another identity', async (t) => {
      await refuse(t, csrIn(t, { san: `URI:spiffe://${TD}/ns/default/sa/admin` }), 'WEFT_ERR_CA_CSR_IDENTITY', /sa\/admin/);
    });
    test('for another trust domain', async (t) => {
      await refuse(t, csrIn(t, { san: 'URI:spiffe://evil.org/ns/default/sa/web' }), 'WEFT_ERR_CA_CSR_IDENTITY');
    });
    test('with a DNS SAN, alone or beside the right URI', async (t) => {
      await refuse(t, csrIn(t, { san: 'DNS:web.default' }), 'WEFT_ERR_CA_CSR_IDENTITY', /DNS:web\.default/);
      await refuse(t, csrIn(t, { san: `URI:${WEB},DNS:web` }), 'WEFT_ERR_CA_CSR_IDENTITY', /DNS:web/);
    });
    test('with an IP or e-mail SAN', async (t) => {
      await refuse(t, csrIn(t, { san: `URI:${WEB},IP:10.0.0.1` }), 'WEFT_ERR_CA_CSR_IDENTITY', /IP:10\.0\.0\.1/);
      await refuse(t, csrIn(t, { san: 'email:ops@example.org' }), 'WEFT_ERR_CA_CSR_IDENTITY');
    });
    test('with several URIs, even the right one twice', async (t) => {
      await refuse(t, csrIn(t, { san: `URI:${WEB},URI:${WEB}` }), 'WEFT_ERR_CA_CSR_IDENTITY');
    });
    test('with an otherName: a UPN, or one of a type the library does not show', async (t) => {
      await refuse(t, csrIn(t, { san: `URI:${WEB},otherName:1.3.6.1.4.1.311.20.2.3;UTF8:admin@example.org` }), 'WEFT_ERR_CA_CSR_IDENTITY', /UPN:admin@example\.org/);
      await refuse(t, csrIn(t, { san: `URI:${WEB},otherName:1.2.3.4;UTF8:admin` }), 'WEFT_ERR_CA_CSR_IDENTITY', /1 name of a type Weft does not issue \(otherName/);
    });
    test('whose signature was tampered with', async (t) => {
      const good = await csrIn(t, {});
      const der = Buffer.from(good.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
      const last = der.length - 1;
      der[last] = (der[last] ?? 0) ^ 0x01;
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
      await refuse(t, tampered, 'WEFT_ERR_CA_CSR_INVALID', /signature/);
    });
    test('whose signed content was altered (the subject)', async (t) => {
      const good = await csrIn(t, { cn: 'aaaa' });
      const der = Buffer.from(good.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
      const at = der.indexOf(Buffer.from('aaaa'));
      assert.ok(at > 0);
      der.write('bbbb', at);
      const altered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      await refuse(t, altered, 'WEFT_ERR_CA_CSR_INVALID', /does not verify/);
    });
    test('with an RSA key or an EC key on another curve', async (t) => {
      await refuse(t, csrIn(t, { key: 'rsa' }), 'WEFT_ERR_CA_CSR_INVALID', /RSA 2048.*EC P-256/);
      await refuse(t, csrIn(t, { key: 'p384' }), 'WEFT_ERR_CA_CSR_INVALID', /EC P-384/);
    });
    test('that is not one PEM CSR', async (t) => {
      await refuse(t, 'garbage', 'WEFT_ERR_CA_CSR_INVALID');
      await refuse(t, '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', 'WEFT_ERR_CA_CSR_INVALID', /PKCS#10/);
      const one = await csrIn(t, {});
      await refuse(t, one + one, 'WEFT_ERR_CA_CSR_INVALID', /exactly one/);
      await refuse(t, `${one}${'x'.repeat(20_000)}`, 'WEFT_ERR_CA_CSR_INVALID');
    });
    test('for an identity that is not a workload SPIFFE ID of this trust domain', async (t) => {
      const csr = csrIn(t, {});
      for (const id of ['spiffe://other.org/ns/default/sa/web', `spiffe://${TD}/web`, `spiffe://${TD}/ns/Default/sa/web`, `spiffe://${TD}/ns/default/sa/web/extra`, 'https://example.org/ns/default/sa/web', `spiffe://${TD}/ns//sa/web`]) {
        await refuse(t, csr, 'WEFT_ERR_CA_SPIFFE_ID_INVALID', undefined, id);
      }
    });
  });

  test('a server certificate for the control plane: fresh key, DNS and IP SANs and its SPIFFE ID', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    const server = await ca.issueServerCertificate({ hosts: ['localhost', '127.0.0.1', '::1', 'cp.example.org'], lifetimeMs: 24 * HOUR });
    const leaf = certs(server.chainPem)[0] as X509Certificate;
    assert.equal(leaf.subjectAltName, `DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:cp.example.org, URI:spiffe://${TD}/ns/weft-system/sa/weft-control-plane`);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(server.keyPem)), 'the key is the certificate\'s');
    assert.match(server.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(server.notAfter.getTime(), Date.parse(leaf.validTo));
    const r = await verifyChain(dir.path, ca.trustBundle.join(''), server.chainPem, { purpose: 'sslserver' });
    assert.ok(r.ok, r.stderr);
    assert.equal(leaf.checkHost('cp.example.org'), 'cp.example.org');
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    const other = await ca.issueServerCertificate({ hosts: ['localhost'], lifetimeMs: HOUR });
    assert.notEqual(other.keyPem, server.keyPem, 'every call makes a new key');
    await assert.rejects(ca.issueServerCertificate({ hosts: ['bad host!'], lifetimeMs: HOUR }), codeOf('WEFT_ERR_CONFIG_INVALID'));
  });

  test('bad options: trust domain, half a plug-in CA, lifetimes', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca', t });
    await assert.rejects(CertificateAuthority.open({ dataDir: dir.path, trustDomain: 'Example.org' }), codeOf('WEFT_ERR_CONFIG_INVALID'));
    await assert.rejects(CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD, caCertFile: dir.join('x.crt') }), codeOf('WEFT_ERR_CONFIG_INVALID'));
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    const csr = await makeCsr(dir.path);
    for (const lifetimeMs of [0, -1, 1.5, Number.NaN, 20 * 366 * 24 * HOUR]) {
      await assert.rejects(ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs }), codeOf('WEFT_ERR_CONFIG_INVALID'));
    }
  });
});
