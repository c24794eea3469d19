import { createHash } from 'node:crypto';

/**
 * The deterministic pseudo-random payload behind the echo servers' `/bytes/N` route, so
 * that a client (or a test through a proxy) can check a body byte for byte without the
 * server having to send the expected hash out of band.
 *
 * The body is a fixed block repeated and cut to N bytes. The block length is a prime
 * (65,521) rather than a power of two, so that it never lines up with write or frame
 * sizes: a proxy that drops, repeats or reorders a 16 KiB or 64 KiB chunk changes the hash.
 */
const BLOCK_LENGTH = 65_521;

const block: Buffer = (() => {
  // xorshift32 with a fixed seed: the same bytes in every process and on every run.
  const b = Buffer.allocUnsafe(BLOCK_LENGTH);
  let x = 0x9e3779b9;
  for (let i = 0; i < BLOCK_LENGTH; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
})();

/** Chunk size the servers write; smaller than the block so chunks straddle block edges. */
export const ECHO_BYTES_CHUNK = 16 * 1024;

/** Bytes `[offset, offset + length)` of the `/bytes/N` payload (any N greater than the end). */
export const echoBytesSlice = (offset: number, length: number): Buffer => {
  const out = Buffer.allocUnsafe(length);
  let written = 0;
  while (written < length) {
    const at = (offset + written) % BLOCK_LENGTH;
    written += block.copy(out, written, at, Math.min(BLOCK_LENGTH, at + (length - written)));
  }
  return out;
};

/** Yields the `n`-byte payload in chunks of at most `chunk` bytes, without holding it whole. */
export function* echoBytesChunks(n: number, chunk = ECHO_BYTES_CHUNK): Generator<Buffer> {
  for (let offset = 0; offset < n; offset += chunk) yield echoBytesSlice(offset, Math.min(chunk, n - offset));
}

const hashes = new Map<number, string>();

/** Hex SHA-256 of the `n`-byte payload; what `/bytes/N` sends as `x-sha256`. Memoized per n. */
export const echoBytesSha256 = (n: number): string => {
  let h = hashes.get(n);
  if (h === undefined) {
    const hash = createHash('sha256');
    for (const c of echoBytesChunks(n, 1024 * 1024)) hash.update(c);
    h = hash.digest('hex');
    hashes.set(n, h);
  }
  return h;
};
