/**
 * Splits a byte stream into newline-terminated lines (NDJSON), holding at most `maxBytes`
 * of one line: a peer that never sends a newline cannot make the reader buffer without
 * bound. `\r\n` endings are accepted; empty lines are skipped (they may serve as keepalives).
 */
export class LineSplitter {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #size = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * The complete lines `chunk` finishes, decoded as UTF-8, or `'overflow'` when a line
   * (complete or not) exceeds `maxBytes`; after an overflow the splitter must not be used.
   */
  push(chunk: Buffer): string[] | 'overflow' {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.#size + piece.length > this.#maxBytes) return 'overflow';
      const line = this.#size === 0 ? piece : Buffer.concat([...this.#parts, piece], this.#size + piece.length);
      this.#parts = [];
      this.#size = 0;
      start = nl + 1;
      const text = line.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') lines.push(text);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.#size + rest.length > this.#maxBytes) return 'overflow';
      this.#parts.push(rest);
      this.#size += rest.length;
    }
    return lines;
  }
}
