// Certificate issuance, in-process: how many workload certificates per second Weft's CA
// (packages/control-plane/src/ca, the built dist) signs from CSRs made ahead, at several
// numbers of concurrent callers; and the peer references: `openssl x509 -req` (one process
// per certificate, as a script would sign), `openssl speed ecdsap256` and Node's own
// crypto.sign (the ceiling: one ECDSA P-256 signature).

import { createPrivateKey, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { run } from './proc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TRUST_DOMAIN = 'cluster.local';
export const LIFETIME_MS = 24 * 3600 * 1000;

/** The CA module as the control plane runs it (needs `npm run build`). */
export const loadCa = async () => {
  const file = path.join(root, 'packages/control-plane/dist/ca/index.js');
  if (!fs.existsSync(file)) throw new Error(`${path.relative(root, file)} is missing: run npm run build`);
  // ./index.js imports reflect-metadata first, which @peculiar/x509 needs.
  const ca = await import(file);
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto);
  return { CertificateAuthority: ca.CertificateAuthority, x509 };
};

const pem = (label, der) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/**
 * `count` P-256 keys and CSRs as a proxy makes them (packages/proxy/src/identity/csr-child.ts:
 * @peculiar/x509 over WebCrypto, no subject alternative name: the CA assigns the identity),
 * with a subject CN so that openssl accepts them too (Weft ignores the subject).
 */
export const makeCsrs = async (x509, count) => {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const out = [];
  for (let i = 0; i < count; i++) {
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=bench-${i}`, keys, signingAlgorithm: algorithm });
    const keyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    out.push({ csrPem: csr.toString('pem'), keyPem });
  }
  return out;
};

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN);

/**
 * Runs `lanes` concurrent loops of `op(i, lane)` for `durationS` seconds; resolves the count,
 * the rate, per-operation latency and this process's CPU per operation (all threads:
 * WebCrypto signs on libuv's pool).
 */
export const closedLoop = async ({ lanes, durationS, op }) => {
  const lat = [];
  let n = 0;
  let errors = 0;
  let firstError = null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + durationS * 1000;
  const lane = async (l) => {
    while (performance.now() < until) {
      const i = n++;
      const s = performance.now();
      try {
        await op(i, l);
        lat.push(performance.now() - s);
      } catch (e) {
        errors++;
        firstError ??= e;
        if (errors > 20 && errors > lat.length) throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const done = lat.length;
  return {
    lanes,
    done,
    errors,
    firstError: firstError ? String(firstError.message ?? firstError).slice(0, 300) : null,
    wallS,
    perS: done / wallS,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    cpuMsPerOp: done ? (cpu.user + cpu.system) / 1000 / done : NaN,
  };
};

/** Weft's CA, in this process, signing the CSRs round-robin for each number of callers. */
export const benchCaInProcess = async ({ dir, csrs, lanesList, durationS, say }) => {
  const { CertificateAuthority } = await loadCa();
  const ca = await CertificateAuthority.open({ dataDir: dir, trustDomain: TRUST_DOMAIN });
  const spiffeId = `spiffe://${TRUST_DOMAIN}/ns/default/sa/bench-client`;
  const issue = (i) => ca.issueWorkloadCertificate({ csrPem: csrs[i % csrs.length].csrPem, spiffeId, lifetimeMs: LIFETIME_MS });
  // Warm-up: JIT, the library's lazy parts.
  await closedLoop({ lanes: 1, durationS: 0.5, op: issue });
  const rows = [];
  for (const lanes of lanesList) {
    const r = await closedLoop({ lanes, durationS, op: issue });
    if (r.errors) throw new Error(`CA in process: ${r.errors} issuances failed: ${r.firstError}`);
    say(`CA in process, ${lanes} caller(s): ${r.perS.toFixed(0)} certificates/s, ${r.cpuMsPerOp.toFixed(2)} ms CPU each`);
    rows.push(r);
  }
  // A sample, to record what is issued.
  const sample = await issue(0);
  return { rows, ca, sampleChainPem: sample.chainPem };
};

/** The self-managed root's certificate and key files, as openssl needs them. */
export const caFiles = (dir) => {
  const caDir = path.join(dir, 'ca');
  const names = fs.readdirSync(caDir);
  const key = names.find((f) => /^root-.*\.key$/.test(f));
  const crt = names.find((f) => /^root-.*\.crt$/.test(f));
  if (!key || !crt) throw new Error(`no root-*.key/crt in ${caDir}`);
  return { keyFile: path.join(caDir, key), certFile: path.join(caDir, crt), bundleFile: path.join(caDir, 'ca.crt') };
};

/**
 * `openssl x509 -req`, one process per certificate (the same root key, a random serial, the
 * extensions Weft puts in a leaf), in `parallel` loops for `durationS` seconds.
 */
export const benchOpensslX509 = async ({ dir, csrs, parallel, durationS }) => {
  const { keyFile, certFile } = caFiles(dir);
  const work = path.join(dir, 'openssl-x509');
  fs.mkdirSync(work, { recursive: true });
  const ext = path.join(work, 'leaf.ext');
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=URI:spiffe://${TRUST_DOMAIN}/ns/default/sa/bench-client`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  const csrFiles = csrs.slice(0, 64).map((c, i) => {
    const f = path.join(work, `${i}.csr`);
    fs.writeFileSync(f, c.csrPem);
    return f;
  });
  let n = 0;
  let failed = null;
  const t0 = performance.now();
  const until = t0 + durationS * 1000;
  const lane = async (l) => {
    while (performance.now() < until && !failed) {
      const i = n++;
      const r = await run('openssl', ['x509', '-req', '-in', csrFiles[i % csrFiles.length], '-CA', certFile, '-CAkey', keyFile, '-days', '1', '-sha256', '-extfile', ext, '-out', path.join(work, `leaf-${l}.crt`)], { timeoutMs: 10_000 });
      if (r.code !== 0) failed = r.stderr.trim().slice(0, 300);
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, l) => lane(l)));
  if (failed) throw new Error(`openssl x509 -req failed: ${failed}`);
  const wallS = (performance.now() - t0) / 1000;
  const v = await run('openssl', ['verify', '-CAfile', certFile, path.join(work, 'leaf-0.crt')], { timeoutMs: 10_000 });
  return { parallel, done: n, wallS, perS: n / wallS, verified: v.code === 0 };
};

/**
 * `openssl ca -batch -infiles`: many CSRs signed by one openssl process (the same root key
 * and leaf extensions), so the process start is spread over 256 certificates. Batches run
 * one after another for `durationS` seconds.
 */
export const benchOpensslCa = async ({ dir, csrs, durationS }) => {
  const { keyFile, certFile } = caFiles(dir);
  const work = path.join(dir, 'openssl-ca');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'newcerts'), { recursive: true });
  fs.writeFileSync(path.join(work, 'index.txt'), '');
  const cnf = path.join(work, 'ca.cnf');
  fs.writeFileSync(
    cnf,
    [
      '[ ca ]', 'default_ca = bench', '[ bench ]', `dir = ${work}`, 'database = $dir/index.txt', 'new_certs_dir = $dir/newcerts',
      `certificate = ${certFile}`, `private_key = ${keyFile}`, 'rand_serial = yes', 'default_md = sha256', 'default_days = 1',
      'policy = any', 'unique_subject = no', 'copy_extensions = none', 'x509_extensions = leaf', 'email_in_dn = no',
      '[ any ]', 'commonName = supplied',
      '[ leaf ]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth,clientAuth',
      `subjectAltName = URI:spiffe://${TRUST_DOMAIN}/ns/default/sa/bench-client`, 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', '',
    ].join('\n'),
  );
  const csrFiles = csrs.map((c, i) => {
    const f = path.join(work, `${i}.csr`);
    fs.writeFileSync(f, c.csrPem);
    return f;
  });
  let done = 0;
  let batches = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationS * 1000) {
    const r = await run('openssl', ['ca', '-batch', '-config', cnf, '-notext', '-out', path.join(work, 'out.pem'), '-infiles', ...csrFiles], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`openssl ca failed: ${r.stderr.trim().slice(-300)}`);
    done += csrFiles.length;
    batches++;
    // A fresh database for the next batch: its size would otherwise grow with the run.
    fs.writeFileSync(path.join(work, 'index.txt'), '');
    fs.rmSync(path.join(work, 'newcerts'), { recursive: true, force: true });
    fs.mkdirSync(path.join(work, 'newcerts'));
  }
  const wallS = (performance.now() - t0) / 1000;
  return { batch: csrFiles.length, batches, done, wallS, perS: done / wallS };
};

/** `openssl speed ecdsap256`: ECDSA P-256 signatures per second on one core (OpenSSL's own loop). */
export const opensslSpeed = async (seconds) => {
  const r = await run('openssl', ['speed', '-seconds', String(seconds), 'ecdsap256'], { timeoutMs: (seconds * 2 + 20) * 1000 });
  // "256 bits ecdsa (nistp256)   0.0000s   0.0001s  38462.3  11494.2"
  const m = /256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout);
  if (!m) return { signPerS: NaN, verifyPerS: NaN, raw: (r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ') };
  return { signPerS: Number(m[1]), verifyPerS: Number(m[2]) };
};

/** Node's crypto.sign (OpenSSL underneath, synchronous): P-256 signatures per second. */
export const nodeSignRate = (seconds) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const data = Buffer.alloc(600, 7); // about a leaf's TBSCertificate
  let n = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 50; i++) sign('sha256', data, key);
    n += 50;
  }
  return { signPerS: n / ((performance.now() - t0) / 1000) };
};
