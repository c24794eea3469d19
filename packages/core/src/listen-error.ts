import { WeftError } from './weft-error.js';

/**
 * A listener that could not be opened, as an error naming the flag that chose its address
 * (`EADDRINUSE` is the usual cause): the user learns which flag to change, not only that
 * some `listen` failed.
 */
export const cannotListen = (flag: string, addr: string, err: unknown): WeftError =>
  new WeftError('WEFT_ERR_CONFIG_INVALID', `${flag} ${addr}: cannot listen: ${err instanceof Error ? err.message : String(err)}`, { field: flag }, { cause: err });
