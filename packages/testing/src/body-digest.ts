import { createHash } from 'node:crypto';

/** What a test server saw of a request body: its length and SHA-256. */
export interface BodyDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Reads a body stream to its end, keeping only its length and SHA-256 (hex). */
export const readBodyDigest = async (body: AsyncIterable<Buffer | string>): Promise<BodyDigest> => {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    bytes += Buffer.byteLength(chunk);
    hash.update(chunk);
  }
  return { bytes, sha256: hash.digest('hex') };
};
