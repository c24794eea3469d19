// The response body every configuration returns: exactly 100 bytes, printable, no
// characters that need escaping in an nginx `return` string.
export const BODY = ('weft-bench-100-byte-response-body-'.repeat(3)).slice(0, 99) + '\n';
if (Buffer.byteLength(BODY) !== 100) throw new Error('BODY must be 100 bytes');
