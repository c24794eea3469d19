// Child processes of the benchmark, and what /proc says about them.
//
// Every child is started in its own process group (detached) so that one signal to the
// group reaches everything it forked (nginx workers, node cluster workers) even if the
// group leader dies first. Every group is recorded, killed on teardown, on error, on
// Ctrl-C and on exit; the pids also go to a file so that a run killed with SIGKILL can be
// cleaned up by the next one (only processes whose command line names our tmp directory).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** @type {Map<number, {name: string, pid: number, child: import('node:child_process').ChildProcess, exited: Promise<{code: number|null, signal: string|null}>, done: boolean}>} */
const live = new Map();
let pidFile = null;

const savePids = () => {
  if (!pidFile) return;
  try {
    fs.writeFileSync(pidFile, JSON.stringify([...live.keys()]));
  } catch {
    /* best effort */
  }
};

/**
 * Where to record pids, and the path every command line of ours contains; kills leftovers
 * of an earlier run that died without cleaning up.
 */
export const initProcesses = (file, marker) => {
  pidFile = file;
  let old = [];
  try {
    old = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return;
  }
  for (const pid of old) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(marker)) process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
};

let niceness = null;
/** Runs every process started from now on under `nice -n n` (n < 0 needs root). */
export const setNice = (n) => {
  niceness = n;
};

/**
 * Starts a command in its own process group, output to logFile. With setNice, through
 * `nice`, which execs the command: the pid is the command's own.
 * @returns {{name: string, pid: number, child: import('node:child_process').ChildProcess, exited: Promise<{code: number|null, signal: string|null}>, done: boolean, logFile: string}}
 */
export const start = (name, cmd, args, { cwd, env, logFile, stdout = 'log' } = {}) => {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `# ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  if (niceness !== null) {
    args = ['-n', String(niceness), cmd, ...args];
    cmd = 'nice';
  }
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', stdout === 'pipe' ? 'pipe' : fd, fd],
  });
  fs.closeSync(fd);
  if (niceness !== null && child.pid) {
    // With autogroup scheduling (sched_autogroup_enabled=1), each session is scheduled as a
    // group, and `detached` gives every child its own session: a plain nice value would only
    // weigh inside that group. Give the group the same niceness.
    try {
      fs.writeFileSync(`/proc/${child.pid}/autogroup`, String(niceness));
    } catch {
      /* no autogroup support */
    }
  }
  const p = { name, pid: child.pid, child, done: false, logFile, exited: null };
  p.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      p.done = true;
      live.delete(child.pid);
      savePids();
      resolve({ code, signal });
    });
    child.on('error', (err) => {
      p.done = true;
      live.delete(child.pid);
      savePids();
      p.error = err;
      resolve({ code: -1, signal: null });
    });
  });
  if (child.pid) {
    live.set(child.pid, p);
    savePids();
  }
  return p;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const killGroup = (pid, sig) => {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
};

/** SIGTERM to the group, SIGKILL after graceMs; resolves when the leader has exited. */
export const stop = async (p, graceMs = 2000) => {
  if (!p || !p.pid) return;
  const members = descendants(p.pid);
  if (!p.done) {
    killGroup(p.pid, 'SIGTERM');
    const t = await Promise.race([p.exited.then(() => 'exited'), sleep(graceMs).then(() => 'timeout')]);
    if (t === 'timeout') killGroup(p.pid, 'SIGKILL');
    await Promise.race([p.exited, sleep(1000)]);
  }
  // Anything forked that outlived its leader (same group, or recorded before the kill).
  killGroup(p.pid, 'SIGKILL');
  for (const pid of members) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
};

/** Synchronous last resort (process 'exit'): SIGKILL every group still recorded. */
export const killAllSync = () => {
  for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
  live.clear();
  savePids();
};

/** Stops every recorded process. */
export const stopAll = async () => {
  await Promise.all([...live.values()].map((p) => stop(p, 1000)));
};

/** Runs a command to completion with a time limit; resolves {code, stdout, stderr, timedOut}. */
export const run = (cmd, args, { cwd, env, timeoutMs = 60_000, logFile } = {}) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const rec = { name: cmd, pid: child.pid, child, done: false, exited: null };
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    if (child.pid) {
      rec.exited = new Promise((r) => child.on('exit', r));
      live.set(child.pid, rec);
      savePids();
    }
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    const finish = (code) => {
      clearTimeout(timer);
      live.delete(child.pid);
      savePids();
      if (logFile) fs.appendFileSync(logFile, `# ${cmd} ${args.join(' ')}\n${out}${err}\n`);
      resolve({ code, stdout: out, stderr: err, timedOut });
    };
    child.on('exit', (code) => finish(code));
    child.on('error', (e) => {
      err += String(e);
      finish(-1);
    });
  });

/** Is cmd on PATH (or at an absolute path)? */
export const which = (cmd) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

const readStat = (pid) => {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces and parentheses; fields after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
};

/** All descendants of pid (children, grandchildren, ...), from /proc. */
export const descendants = (pid) => {
  const parent = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      parent.set(Number(e), readStat(e).ppid);
    } catch {
      /* raced with exit */
    }
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift();
    for (const [c, pp] of parent) if (pp === p) out.push(c), queue.push(c);
  }
  return out;
};

/** The pid and its descendants. */
export const tree = (pid) => [pid, ...descendants(pid)];

/** CPU seconds (utime + stime) of a set of processes (threads included, as /proc/PID/stat sums them). */
export const cpuSeconds = (pids) => {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const s = readStat(pid);
      ticks += s.utime + s.stime;
    } catch {
      /* exited */
    }
  }
  return ticks / CLK_TCK;
};

/**
 * VmRSS and VmHWM of one process, and its private memory (USS: Private_Clean +
 * Private_Dirty), in kB. RSS counts the pages of the executable that every process of the
 * same binary shares (about 34 MB of a Node process); private memory is what one more
 * sidecar on a host costs.
 */
export const memKb = (pid) => {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (text, k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    let uss = NaN;
    try {
      const r = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      uss = get(r, 'Private_Clean') + get(r, 'Private_Dirty');
    } catch {
      // smaps_rollup needs Linux 4.14; without it private memory is not reported.
    }
    return { rss: get(s, 'VmRSS'), hwm: get(s, 'VmHWM'), uss };
  } catch {
    return { rss: NaN, hwm: NaN, uss: NaN };
  }
};

/** Summed VmRSS / VmHWM / private memory over the given processes, in MB. */
export const memMb = (pids) => {
  let rss = 0;
  let hwm = 0;
  let uss = 0;
  for (const pid of pids) {
    const m = memKb(pid);
    rss += m.rss;
    hwm += m.hwm;
    uss += m.uss;
  }
  return { rss: rss / 1024, hwm: hwm / 1024, uss: uss / 1024 };
};

/** Machine-wide CPU jiffies from /proc/stat: {busy, total}. */
export const machineCpu = () => {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = line[3] + line[4];
  return { busy: total - idle, total };
};

export { CLK_TCK };

/** A free TCP port on 127.0.0.1 (bound and released; the small race is acceptable here). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** One GET with a fresh connection; resolves {status, body} or rejects. */
export const httpGet = (port, path = '/', timeoutMs = 2000) =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });

/**
 * Polls until check() resolves truthy, or throws after timeoutMs. Fails early if any of
 * `watch` (started processes) has exited.
 */
export const waitFor = async (what, check, { timeoutMs = 15_000, intervalMs = 100, watch = [] } = {}) => {
  const until = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    for (const p of watch) {
      if (p.done) throw new Error(`${p.name} exited before ${what}${p.error ? `: ${p.error.message}` : ''}; log: ${tail(p.logFile)}`);
    }
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await sleep(intervalMs);
  }
};

/** The last lines of a log file, for error messages. */
export const tail = (file, lines = 8) => {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
};

export { sleep };
