import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { WeftError } from '@weft/core';

/**
 * Where the REST API is and the admin token to present, resolved as PRODUCT.md says for
 * every command but `weft proxy` and `weft run`: `--api URL`, else `WEFT_API`, else
 * `http://127.0.0.1:7700`; the token from `WEFT_ADMIN_TOKEN`, else the file `admin-token`
 * in the data dir (`--data-dir`, else `WEFT_DATA_DIR`, else `./.weft`).
 */

/** The default REST API address. */
export const DEFAULT_API_URL = 'http://127.0.0.1:7700';
/** The default data dir. */
export const DEFAULT_DATA_DIR = './.weft';

/** The flags that say where the API is. */
export interface ApiFlags {
  readonly api?: string;
  readonly dataDir?: string;
}

/** A resolved API address and token. */
export interface ApiConfig {
  /** The base URL without a trailing slash, e.g. `http://127.0.0.1:7700`. */
  readonly baseUrl: string;
  readonly token: string;
}

/** Adds `--api` and `--data-dir` to a command that talks to the control plane. */
export const addApiOptions = (cmd: Command): Command =>
  cmd
    .option('--api <url>', `REST API of the control plane (env WEFT_API, default ${DEFAULT_API_URL})`)
    .option('--data-dir <dir>', `where the admin token is read from when WEFT_ADMIN_TOKEN is not set (env WEFT_DATA_DIR, default ${DEFAULT_DATA_DIR})`);

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s.trim());

/** The base URL from flags and environment; `WEFT_ERR_CONFIG_INVALID` if it is not an http(s) URL. */
export const resolveBaseUrl = (flags: ApiFlags, env: NodeJS.ProcessEnv = process.env): string => {
  const raw = nonEmpty(flags.api) ?? nonEmpty(env['WEFT_API']) ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--api ${raw}: not a URL; expected e.g. ${DEFAULT_API_URL}`, { field: '--api' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--api ${raw}: must be an http:// or https:// URL`, { field: '--api' });
  }
  return url.href.replace(/\/+$/, '');
};

/** The admin token from the environment or the data dir; `WEFT_ERR_CONFIG_READ` saying where it looked. */
export const resolveToken = async (flags: ApiFlags, env: NodeJS.ProcessEnv = process.env): Promise<string> => {
  const fromEnv = nonEmpty(env['WEFT_ADMIN_TOKEN']);
  if (fromEnv !== undefined) return fromEnv;
  const dir = nonEmpty(flags.dataDir) ?? nonEmpty(env['WEFT_DATA_DIR']) ?? DEFAULT_DATA_DIR;
  const file = join(dir, 'admin-token');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new WeftError(
      'WEFT_ERR_CONFIG_READ',
      `no admin token: WEFT_ADMIN_TOKEN is not set and ${file} cannot be read (${code}); run in the directory of the control plane's data dir, or pass --data-dir DIR, or set WEFT_ADMIN_TOKEN`,
      { file },
      { cause: err },
    );
  }
  const token = nonEmpty(text);
  if (token === undefined) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${file} is empty: it should hold the admin token`, { file });
  return token;
};

/** Both, from flags and environment. */
export const resolveApiConfig = async (flags: ApiFlags, env: NodeJS.ProcessEnv = process.env): Promise<ApiConfig> => ({
  baseUrl: resolveBaseUrl(flags, env),
  token: await resolveToken(flags, env),
});
