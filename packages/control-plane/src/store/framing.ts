import { crc32 } from './crc32.js';

/**
 * The framing of every line the file store writes, in its log and its snapshot:
 *
 *     <length: 8 hex digits> <crc32: 8 hex digits> <payload: JSON, `length` bytes>\n
 *
 * e.g. `0000002a 1c291ca3 {"rev":1,"op":"put",...}`. The length says where the record must
 * end and the CRC whether every byte of it arrived, so a record cut short or half-written by a
 * crash is recognized for certain, not guessed from a JSON parse error; and the files stay
 * readable with `less`. JSON.stringify never emits a raw newline, so one record is one line.
 */
const HEADER_BYTES = 18;
const NEWLINE = 0x0a;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** `payload` framed as one line. */
export const frame = (payload: string): Buffer => {
  const body = Buffer.from(payload, 'utf8');
  const head = Buffer.from(`${hex8(body.length)} ${hex8(crc32(body))} `, 'latin1');
  return Buffer.concat([head, body, Buffer.from([NEWLINE])]);
};

const HEX = /^[0-9a-f]{8}$/;

/** The payload of the frame starting at `offset` and the offset after it, or `undefined` if there is no whole, intact frame there. */
export const readFrame = (buf: Buffer, offset: number): { payload: string; end: number } | undefined => {
  if (offset + HEADER_BYTES > buf.length) return undefined;
  const lenHex = buf.toString('latin1', offset, offset + 8);
  const crcHex = buf.toString('latin1', offset + 9, offset + 17);
  if (!HEX.test(lenHex) || !HEX.test(crcHex) || buf[offset + 8] !== 0x20 || buf[offset + 17] !== 0x20) return undefined;
  const start = offset + HEADER_BYTES;
  const end = start + Number.parseInt(lenHex, 16);
  if (end + 1 > buf.length || buf[end] !== NEWLINE) return undefined;
  const body = buf.subarray(start, end);
  if (crc32(body) !== Number.parseInt(crcHex, 16)) return undefined;
  return { payload: body.toString('utf8'), end: end + 1 };
};

/** The result of reading a framed file: the intact frames from its start, and what follows them. */
export interface FrameScan {
  readonly payloads: string[];
  /** Offset after the last intact frame of the unbroken run from the start. */
  readonly validBytes: number;
  /** Bytes after `validBytes` (0 for a clean file). */
  readonly trailingBytes: number;
  /**
   * An intact frame starts at some line boundary after the first bad one: the damage is in
   * the middle, not a torn end. Only possible for writes that were never acknowledged (their
   * blocks reached the disk out of order before a power loss) or for real corruption.
   */
  readonly intactAfterDamage: boolean;
}

/** Reads the frames of `buf` from its start up to the first one that is not intact. */
export const scanFrames = (buf: Buffer): FrameScan => {
  const payloads: string[] = [];
  let offset = 0;
  for (;;) {
    const f = readFrame(buf, offset);
    if (f === undefined) break;
    payloads.push(f.payload);
    offset = f.end;
  }
  let intactAfterDamage = false;
  for (let nl = buf.indexOf(NEWLINE, offset); nl !== -1 && nl + 1 < buf.length; nl = buf.indexOf(NEWLINE, nl + 1)) {
    if (readFrame(buf, nl + 1) !== undefined) {
      intactAfterDamage = true;
      break;
    }
  }
  return { payloads, validBytes: offset, trailingBytes: buf.length - offset, intactAfterDamage };
};
