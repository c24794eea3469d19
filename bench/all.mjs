// `npm run bench`: the data-plane benchmark (bench/run.mjs), then the control-plane one
// (bench/control-plane.mjs), then the security one (bench/security.mjs: CA issuance and TLS
// handshakes), with the same arguments (`--quick` shortens all three); the later ones reuse
// the build the first one made.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick') ? ['--quick'] : [];
const first = spawnSync(process.execPath, [here('./run.mjs'), ...args], { stdio: 'inherit' });
if (first.status !== 0) process.exit(first.status ?? 1);
const second = spawnSync(process.execPath, [here('./control-plane.mjs'), '--no-build', ...quick], { stdio: 'inherit' });
const third = spawnSync(process.execPath, [here('./security.mjs'), '--no-build', ...quick], { stdio: 'inherit' });
process.exit((second.status ?? 1) !== 0 || (third.status ?? 1) !== 0 ? 1 : 0);
