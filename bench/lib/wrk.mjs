// Closed-loop throughput at fixed concurrency with wrk.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start } from './proc.mjs';

const LUA = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk-report.lua');

/** The exact wrk arguments used for a measured run (also printed in the report). */
export const wrkArgs = ({ port, threads = 1, connections = 32, durationS = 10, path: p = '/' }) => [
  `-t${threads}`,
  `-c${connections}`,
  `-d${durationS}s`,
  '--timeout',
  '5s',
  '-s',
  LUA,
  `http://127.0.0.1:${port}${p}`,
];

/**
 * Runs wrk and resolves its summary: {requests, rps, errors, latencyMs}.
 * @param {{port: number, threads?: number, connections?: number, durationS?: number, logFile: string}} o
 */
export const runWrk = async (o) => {
  const args = wrkArgs(o);
  const p = start('wrk', 'wrk', args, { logFile: o.logFile, stdout: 'pipe' });
  let out = '';
  p.child.stdout.on('data', (d) => (out += d));
  const killer = setTimeout(() => p.child.kill('SIGKILL'), (o.durationS + 15) * 1000);
  const { code } = await p.exited;
  clearTimeout(killer);
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (code !== 0 || !line) throw new Error(`wrk exited ${code}: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  const j = JSON.parse(line.slice('WRK_JSON '.length));
  const secs = j.duration_us / 1e6;
  const ms = (us) => Math.round(us) / 1000;
  return {
    args: ['wrk', ...args.map((a) => (a === LUA ? 'bench/lib/wrk-report.lua' : a))].join(' '),
    requests: j.requests,
    seconds: secs,
    rps: j.requests / secs,
    errors: j.errors,
    latencyMs: { mean: ms(j.latency_us.mean), p50: ms(j.latency_us.p50), p90: ms(j.latency_us.p90), p99: ms(j.latency_us.p99), max: ms(j.latency_us.max) },
  };
};
