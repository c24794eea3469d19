// A throwaway test PKI made with the openssl CLI: one CA and two leaf certificates, all
// EC P-256, valid for two days. Never use these anywhere but this benchmark.
//
// Each leaf carries serverAuth and clientAuth, DNS and IP SANs for loopback, and one SPIFFE
// URI SAN, so that the same files work for HAProxy, nginx and Weft (which may check either
// the DNS name or the SPIFFE identity once mTLS lands).

import fs from 'node:fs';
import path from 'node:path';
import { run } from './proc.mjs';

export const TRUST_DOMAIN = 'bench.local';

const ossl = async (dir, args, log) => {
  const r = await run('openssl', args, { cwd: dir, timeoutMs: 20_000, logFile: log });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r;
};

/**
 * Writes ca.crt/ca.key and, for each name, NAME.crt, NAME.key and NAME.pem (cert + key,
 * as HAProxy wants it) into dir. Resolves the absolute file paths.
 * @param {string} dir
 * @param {string[]} names
 */
export const makePki = async (dir, names = ['backend', 'bench-client']) => {
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'openssl.log');
  await ossl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], log);
  await ossl(
    dir,
    [
      'req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=weft-bench-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', 'ca.crt',
    ],
    log,
  );
  const out = { dir, caFile: path.join(dir, 'ca.crt'), leaves: {} };
  for (const name of names) {
    fs.writeFileSync(
      path.join(dir, `${name}.ext`),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=DNS:${name},DNS:${name}.default,DNS:${name}.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,URI:spiffe://${TRUST_DOMAIN}/ns/default/sa/${name}`,
        '',
      ].join('\n'),
    );
    await ossl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], log);
    await ossl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], log);
    await ossl(
      dir,
      [
        'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`,
      ],
      log,
    );
    await ossl(dir, ['verify', '-CAfile', 'ca.crt', `${name}.crt`], log);
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    const pemFile = path.join(dir, `${name}.pem`);
    fs.writeFileSync(pemFile, fs.readFileSync(certFile, 'utf8') + fs.readFileSync(keyFile, 'utf8'));
    for (const f of [keyFile, pemFile]) fs.chmodSync(f, 0o644); // nginx/haproxy workers may drop root
    out.leaves[name] = { certFile, keyFile, pemFile };
  }
  return out;
};
