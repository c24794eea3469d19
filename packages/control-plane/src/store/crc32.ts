import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

/** CRC-32 (IEEE, as zlib and gzip) in JavaScript, for Node releases before 20.15 that lack `zlib.crc32`. */
const crc32js = (data: Uint8Array): number => {
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
};

const native = (zlib as Partial<typeof zlib>).crc32;

/** CRC-32 of `data` (IEEE polynomial), native when the runtime has it. */
export const crc32 = (data: Uint8Array): number => (native ? native(data) : crc32js(data));
