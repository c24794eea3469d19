import { WeftError } from '@weft/core';

/** A `HOST:PORT` flag value, parsed. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `HOST:PORT` (`[v6]:PORT` for IPv6; port 0 picks a free one). Throws
 * `WEFT_ERR_CONFIG_INVALID` naming `flag` when the value is malformed.
 */
export const parseHostPort = (value: string, flag: string): HostPort => {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${flag} ${value}: must be HOST:PORT, e.g. 127.0.0.1:7700 (port 0 picks a free one)`, { field: flag });
  }
  return { host, port };
};
