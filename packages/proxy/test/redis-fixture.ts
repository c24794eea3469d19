import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@weft/testing';

/** A real `redis-server` on loopback for tests, without persistence. */
export interface TestRedis {
  readonly port: number;
  readonly address: string;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

const launch = (port: number): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start in 10 s: ${out}`));
    }, 10_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not be started (is the redis-server package installed?): ${err.message}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });

const stop = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

/** Starts `redis-server --save '' --appendonly no` on a free loopback port; `t.after` kills it. */
export const startTestRedis = async (t: { after: (fn: () => Promise<void>) => void }): Promise<TestRedis> => {
  const port = await freePort();
  let child = await launch(port);
  t.after(() => stop(child));
  return {
    port,
    address: `127.0.0.1:${port}`,
    kill: () => stop(child),
    restart: async () => {
      await stop(child);
      child = await launch(port);
    },
  };
};
