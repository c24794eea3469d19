// Certificate issuance end to end: a real `weft control-plane`, N concurrent requesters
// sending `POST /weft.v1.Identity/Issue` with a join token and a CSR made ahead, as a
// proxy does on its first start. Two ways of connecting:
//   - new: a new HTTP/2-over-TLS connection per request, with the proxy's own client code
//     (packages/proxy/src/identity/h2-json.ts and control-plane-tls.ts, built): what a
//     proxy does, once at start and once per renewal;
//   - kept: one HTTP/2 session per requester, requests one after another on it: the CA
//     and the endpoint without the TLS handshake.
// The requesters run in the benchmark's own process; the control plane's CPU comes from /proc.

import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop } from './sec-ca.mjs';
import { createJoinToken, startControlPlane } from './mtls-config.mjs';
import { cpuSeconds, memMb, stop } from './proc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (f) => import(path.join(root, f));

export const benchIssuanceEndToEnd = async ({ dir, csrs, lanesList, modes, durationS, say }) => {
  const { h2Json } = await dist('packages/proxy/dist/identity/h2-json.js');
  const { controlPlaneTls } = await dist('packages/proxy/dist/identity/control-plane-tls.js');
  const api = await dist('packages/api/dist/data-plane.js');
  const bin = path.join(root, 'packages/cli/bin/weft.js');
  const cp = await startControlPlane({ root, bin, dir });
  try {
    const token = await createJoinToken(cp, 'bench-client');
    const bundle = [fs.readFileSync(path.join(cp.dataDir, 'ca', 'ca.crt'), 'utf8')];
    const tls = controlPlaneTls(bundle, 'cluster.local');
    const address = `127.0.0.1:${cp.stream}`;
    const body = (i) => ({ service: 'bench-client', namespace: 'default', csrPem: csrs[i % csrs.length].csrPem });
    const headers = { authorization: `Bearer ${token}` };
    const check = (answer) => {
      if (answer.spiffeId !== 'spiffe://cluster.local/ns/default/sa/bench-client') throw new Error(`issued ${answer.spiffeId}`);
      return answer;
    };

    const newConnection = (i) =>
      h2Json({ address, path: api.IDENTITY_ISSUE_PATH, method: 'POST', body: body(i), headers, tls, schema: api.IssueResponseSchema }).then(check);

    /** One kept session per lane; a request is one stream on it. */
    const sessions = [];
    const keptSession = () => {
      const s = http2.connect(`https://${address}`, tls);
      s.on('error', () => {});
      sessions.push(s);
      return s;
    };
    const post = (session, i) =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': api.IDENTITY_ISSUE_PATH, 'content-type': 'application/json', ...headers });
        let status = 0;
        const chunks = [];
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (status !== 200) return reject(new Error(`status ${status}: ${text.slice(0, 200)}`));
          const parsed = api.IssueResponseSchema.safeParse(JSON.parse(text));
          if (!parsed.success) return reject(new Error(`answer does not parse: ${parsed.error.message}`));
          resolve(check(parsed.data));
        });
        stream.on('error', reject);
        stream.end(JSON.stringify(body(i)));
      });

    // Warm-up: the control plane's JIT and the CA's lazy parts.
    await closedLoop({ lanes: 2, durationS: 1, op: newConnection });
    const rows = [];
    for (const mode of modes) {
      for (const lanes of lanesList) {
        let op = newConnection;
        if (mode === 'kept') {
          const pool = Array.from({ length: lanes }, keptSession);
          op = (i, lane) => post(pool[lane], i);
        }
        const pids = [cp.proc.pid];
        const cpu0 = cpuSeconds(pids);
        const r = await closedLoop({ lanes, durationS, op });
        const cpCpu = cpuSeconds(pids) - cpu0;
        for (const s of sessions.splice(0)) s.close();
        if (r.errors) throw new Error(`issuance over the endpoint: ${r.errors} of ${r.done + r.errors} requests failed: ${r.firstError}`);
        const row = { mode, ...r, controlPlaneCpuMsPerOp: (cpCpu * 1000) / r.done, clientCpuMsPerOp: r.cpuMsPerOp };
        delete row.cpuMsPerOp;
        say(`issuance over the endpoint (${mode} connection), ${lanes} requester(s): ${row.perS.toFixed(0)} certificates/s, p50 ${row.p50Ms.toFixed(1)} ms, control plane ${row.controlPlaneCpuMsPerOp.toFixed(2)} ms CPU each`);
        rows.push(row);
      }
    }
    return { rows, controlPlaneRssMb: memMb([cp.proc.pid]).rss };
  } finally {
    await stop(cp.proc, 3000);
  }
};
