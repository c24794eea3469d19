import { isIP } from 'node:net';
import { splitAuthority } from './redirect.js';

/**
 * The authority a mirrored request carries: the forwarded one with `-shadow` after the
 * host name (`reviews:9080` becomes `reviews-shadow:9080`), as Envoy marks mirrored
 * requests, so that the mirror's application can tell copies apart. An IP address is left
 * as it is: it has no name to mark.
 */
export const shadowAuthority = (authority: string): string => {
  const { host, port } = splitAuthority(authority);
  if (host === '' || host.startsWith('[') || isIP(host) !== 0) return authority;
  return port === undefined ? `${host}-shadow` : `${host}-shadow:${port}`;
};
