import { z } from 'zod';
import type { ApiConfig } from '../client/api-config.js';
import { ApiError } from '../client/api-error.js';
import { apiGet } from './mesh-status.js';

/** A CA certificate expiring sooner than this is warned about. */
const NEAR_EXPIRY_DAYS = 30;

/** One result line of the CA check. */
export interface CaCheckLine {
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly text: string;
}

/** What `weft check` reads of `GET /api/v1/ca`. */
const CaAnswerSchema = z.object({
  mode: z.string(),
  expiries: z.array(
    z.object({
      role: z.enum(['root', 'intermediate']),
      subject: z.string(),
      caHash: z.string(),
      notAfter: z.string(),
      daysLeft: z.number(),
      signing: z.boolean(),
    }),
  ),
});

/**
 * Checks every root and intermediate of the control plane's CA: expired is a failure,
 * within 30 days of expiry a warning (time to rotate, or to renew the plug-in CA). A control
 * plane without a CA (started without security) skips the check.
 */
export const checkCa = async (config: ApiConfig): Promise<CaCheckLine[]> => {
  let body: unknown;
  try {
    body = await apiGet(config, '/api/v1/ca');
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 404) return [{ status: 'skip', text: 'the control plane runs without a CA: CA checks skipped' }];
    return [{ status: 'fail', text: `CA: ${err instanceof Error ? err.message : String(err)}` }];
  }
  const parsed = CaAnswerSchema.safeParse(body);
  if (!parsed.success) return [{ status: 'fail', text: `CA: the control plane's answer is not of the expected shape: ${parsed.error.issues[0]?.message ?? ''}` }];
  return parsed.data.expiries.map((e): CaCheckLine => {
    const what = `${parsed.data.mode} CA ${e.role} "${e.subject}"${e.signing ? ' (signing)' : ''}`;
    if (e.daysLeft < 0) return { status: 'fail', text: `${what} expired ${e.notAfter}` };
    if (e.daysLeft < NEAR_EXPIRY_DAYS) return { status: 'warn', text: `${what} expires in ${e.daysLeft} days (${e.notAfter}): rotate it (weft ca rotate) or renew your plug-in CA` };
    return { status: 'ok', text: `${what} valid until ${e.notAfter} (${e.daysLeft} days)` };
  });
};
