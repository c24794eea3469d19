/**
 * RESP2, the Redis serialization protocol, as far as a client needs it: commands out as
 * arrays of bulk strings, replies in as simple strings, errors, integers, bulk strings and
 * arrays (nested), parsed incrementally from whatever chunks the socket delivers. Sizes are
 * bounded so that a broken or hostile server cannot make the proxy buffer without limit.
 */

/** An error reply (`-ERR ...`, `-NOSCRIPT ...`). */
export class RespError extends Error {
  /** The first word: `ERR`, `NOSCRIPT`, `WRONGTYPE`... */
  readonly kind: string;
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
    this.kind = message.split(' ', 1)[0] ?? '';
  }
}

export type RespValue = string | number | null | RespError | RespValue[];

/** The protocol was broken: the connection cannot be trusted any more. */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

/** Largest bulk string accepted (Redis's own `proto-max-bulk-len` default is 512 MB; the limiter reads numbers). */
export const MAX_BULK_BYTES = 1024 * 1024;
/** Most elements of one array reply, and deepest nesting. */
export const MAX_ARRAY_LENGTH = 1024;
const MAX_DEPTH = 4;
/** Longest line (simple string, error, integer, length). */
const MAX_LINE = 64 * 1024;

/** A command as RESP bytes: an array of bulk strings. */
export const encodeCommand = (args: readonly (string | number)[]): Buffer => {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
};

class NeedMore {
  static readonly instance = new NeedMore();
}

/** Parses replies from a byte stream; feed it chunks, take whole replies out. */
export class RespParser {
  #buf: Buffer = Buffer.alloc(0);

  /** Bytes held that do not make a whole reply yet. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Adds `chunk` and returns every reply now complete, in order. Throws RespProtocolError on bad input. */
  push(chunk: Buffer): RespValue[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: RespValue[] = [];
    let offset = 0;
    for (;;) {
      const r = this.#value(offset, 0);
      if (r instanceof NeedMore) break;
      out.push(r.value);
      offset = r.next;
    }
    this.#buf = this.#buf.subarray(offset);
    if (this.#buf.length > MAX_BULK_BYTES + MAX_LINE) throw new RespProtocolError(`reply larger than ${MAX_BULK_BYTES} bytes`);
    return out;
  }

  #line(offset: number): { text: string; next: number } | NeedMore {
    const end = this.#buf.indexOf('\r\n', offset);
    if (end < 0) {
      if (this.#buf.length - offset > MAX_LINE) throw new RespProtocolError('line too long');
      return NeedMore.instance;
    }
    return { text: this.#buf.toString('utf8', offset, end), next: end + 2 };
  }

  #value(offset: number, depth: number): { value: RespValue; next: number } | NeedMore {
    if (offset >= this.#buf.length) return NeedMore.instance;
    const type = String.fromCharCode(this.#buf[offset] as number);
    const line = this.#line(offset + 1);
    if (line instanceof NeedMore) return line;
    switch (type) {
      case '+':
        return { value: line.text, next: line.next };
      case '-':
        return { value: new RespError(line.text), next: line.next };
      case ':':
        return { value: integer(line.text), next: line.next };
      case '$': {
        const n = integer(line.text);
        if (n === -1) return { value: null, next: line.next };
        if (n < 0 || n > MAX_BULK_BYTES) throw new RespProtocolError(`bad bulk length ${n}`);
        if (this.#buf.length < line.next + n + 2) return NeedMore.instance;
        if (this.#buf[line.next + n] !== 13 || this.#buf[line.next + n + 1] !== 10) throw new RespProtocolError('bulk string not followed by CRLF');
        return { value: this.#buf.toString('utf8', line.next, line.next + n), next: line.next + n + 2 };
      }
      case '*': {
        const n = integer(line.text);
        if (n === -1) return { value: null, next: line.next };
        if (n < 0 || n > MAX_ARRAY_LENGTH) throw new RespProtocolError(`bad array length ${n}`);
        if (depth >= MAX_DEPTH) throw new RespProtocolError('arrays nested too deep');
        const items: RespValue[] = [];
        let next = line.next;
        for (let i = 0; i < n; i++) {
          const item = this.#value(next, depth + 1);
          if (item instanceof NeedMore) return item;
          items.push(item.value);
          next = item.next;
        }
        return { value: items, next };
      }
      default:
        throw new RespProtocolError(`unknown reply type ${JSON.stringify(type)}`);
    }
  }
}

const integer = (text: string): number => {
  if (!/^-?[0-9]{1,18}$/.test(text)) throw new RespProtocolError(`not an integer: ${JSON.stringify(text.slice(0, 32))}`);
  return Number(text);
};
