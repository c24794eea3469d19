/**
 * Generates the proxy's key pair and a certificate signing request for one SPIFFE ID, in a
 * short-lived child process of the proxy: the X.509 library costs ~18 MB of memory once
 * loaded and is needed only at issuance and renewal, so the sidecar never loads it. The
 * key goes back to the parent over a pipe and never leaves the host.
 *
 * Usage: `node csr-child.js [spiffe-id]` (without it the CSR names no identity and the CA assigns the one the caller is allowed); prints `{"keyPem": ..., "csrPem": ...}`.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { cryptoProvider, Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from '@peculiar/x509';

const spiffeId = process.argv[2];
if (spiffeId !== undefined && !spiffeId.startsWith('spiffe://')) {
  process.stderr.write('usage: csr-child [spiffe-id]\n');
  process.exit(2);
}
cryptoProvider.set(webcrypto as unknown as Parameters<typeof cryptoProvider.set>[1]);
const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
const csr = await Pkcs10CertificateRequestGenerator.create({
  keys: keys as Parameters<typeof Pkcs10CertificateRequestGenerator.create>[0]['keys'],
  signingAlgorithm: algorithm,
  extensions: spiffeId === undefined ? [] : [new SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }])],
});
const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
process.stdout.write(JSON.stringify({ keyPem, csrPem: csr.toString('pem') }));
