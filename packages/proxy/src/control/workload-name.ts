import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { WeftError } from '@weft/core';

/**
 * The default workload name of a proxy: `<service>-<address>-<port>`, made an RFC 1123
 * label (what a Workload's name must be): lowercase, characters other than letters, digits
 * and `-` replaced by `-`, and, when longer than 63 characters (an IPv6 address), cut and
 * suffixed with a hash of the full name so that it stays unique.
 */
export const defaultWorkloadName = (service: string, address: string, port: number): string => {
  const full = `${service}-${address}-${port}`.toLowerCase();
  const safe = full.replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  if (safe.length <= 63) return safe === '' ? 'workload' : safe;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${safe.slice(0, 54).replace(/-+$/, '')}-${hash}`;
};

/**
 * The address other proxies reach this one at, from its inbound listen host: the host
 * itself when it is an IP address; for `localhost`, 127.0.0.1; for an unspecified address
 * (`0.0.0.0`, `::`), the first non-internal IPv4 address of the host (127.0.0.1 if none).
 * A host name is refused: the registry stores endpoints as IP addresses.
 */
export const advertisedAddress = (listenHost: string): string => {
  if (listenHost === 'localhost') return '127.0.0.1';
  if (isIP(listenHost) === 0) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--listen-host ${listenHost}: must be an IP address with --control-plane (the registry stores endpoints by address)`, {
      field: '--listen-host',
    });
  }
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return listenHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
};
