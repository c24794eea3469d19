// Installs the peer proxies and the load generator from Debian when they are missing.
// `apt-get update` runs only when something has to be installed.

import { run, which } from './proc.mjs';

/** Debian package for each command the benchmark needs. */
const NEEDED = [
  { cmd: 'haproxy', pkg: 'haproxy' },
  { cmd: 'nginx', pkg: 'nginx' },
  { cmd: 'wrk', pkg: 'wrk' },
  { cmd: 'openssl', pkg: 'openssl' },
];

/**
 * Ensures the tools exist; resolves the list of packages it installed.
 * @param {(msg: string) => void} say
 * @param {string} logFile
 */
export const ensureTools = async (say, logFile) => {
  // Root's PATH normally has /usr/sbin; add it in case it does not (haproxy and nginx live there).
  if (!process.env.PATH.split(':').includes('/usr/sbin')) process.env.PATH += ':/usr/sbin:/sbin';
  const missing = NEEDED.filter((n) => !which(n.cmd)).map((n) => n.pkg);
  if (missing.length === 0) return [];
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(`missing ${missing.join(', ')}; install them (apt-get install -y ${missing.join(' ')}) or run as root`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  say(`installing ${missing.join(', ')} with apt-get (update first)`);
  const up = await run('apt-get', ['update'], { env, timeoutMs: 120_000, logFile });
  if (up.code !== 0) say(`apt-get update failed (${up.timedOut ? 'timeout' : `exit ${up.code}`}); trying the install anyway`);
  const inst = await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, timeoutMs: 240_000, logFile });
  if (inst.code !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${inst.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const still = NEEDED.filter((n) => !which(n.cmd)).map((n) => n.cmd);
  if (still.length) throw new Error(`still missing after install: ${still.join(', ')}`);
  return missing;
};

/** Version strings of the tools, for the report. */
export const toolVersions = async () => {
  const v = async (cmd, args, re) => {
    const r = await run(cmd, args, { timeoutMs: 10_000 });
    const m = re.exec(r.stdout + r.stderr);
    return m ? m[1] : 'unknown';
  };
  return {
    node: process.version,
    haproxy: await v('haproxy', ['-v'], /version (\S+)/),
    nginx: await v('nginx', ['-v'], /nginx\/(\S+)/),
    wrk: await v('wrk', ['-v'], /wrk (\S+)/),
    openssl: await v('openssl', ['version'], /OpenSSL (\S+)/),
  };
};
