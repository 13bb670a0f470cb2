// PostgreSQL's `hashtextextended(text, seed)` (src/common/hashfn.c `hash_bytes_extended`: Bob Jenkins'
// lookup3 mix over the UTF-8 bytes, 64-bit seed) as the server computes it on a little-endian machine,
// for a deterministic ("C") collation. The sampler ranks scans by it so the team store can cut its
// lists by rank in SQL at the speed of a built-in (no library offers this function; md5 would cost the
// server 15× more per row). Written out here because nothing on npm carries it; a test checks it against
// a real server on thousands of strings, and the store checks one value before it trusts its own cut.
const rot = (x: number, k: number) => (x << k) | (x >>> (32 - k));
const utf8 = new TextEncoder();

// The hash state (int32: the arithmetic is mod 2^32) and a byte buffer, kept between calls.
let a = 0;
let b = 0;
let c = 0;
let buf = new Uint8Array(256);

function mix(): void {
  a = (a - c) | 0; a = (a ^ rot(c, 4)) | 0; c = (c + b) | 0;
  b = (b - a) | 0; b = (b ^ rot(a, 6)) | 0; a = (a + c) | 0;
  c = (c - b) | 0; c = (c ^ rot(b, 8)) | 0; b = (b + a) | 0;
  a = (a - c) | 0; a = (a ^ rot(c, 16)) | 0; c = (c + b) | 0;
  b = (b - a) | 0; b = (b ^ rot(a, 19)) | 0; a = (a + c) | 0;
  c = (c - b) | 0; c = (c ^ rot(b, 4)) | 0; b = (b + a) | 0;
}

/** The text's UTF-8 bytes into `buf`; their count. */
function bytesOf(text: string): number {
  if (buf.length < text.length * 3) buf = new Uint8Array(text.length * 3);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u >= 0x80) return utf8.encodeInto(text, buf).written;
    buf[i] = u;
  }
  return text.length;
}

/** The hash into a (unused), b (high half) and c (low half). */
function run(text: string, seed: number): void {
  let len = bytesOf(text);
  const k = buf;
  a = b = c = (0x9e3779b9 + len + 3923095) | 0;
  // A non-zero seed is hashed as a 12-byte block ahead of the text (its high and low halves, then zeros).
  if (seed !== 0) {
    a = (a + Math.floor(seed / 2 ** 32)) | 0;
    b = (b + (seed >>> 0)) | 0;
    mix();
  }
  let i = 0;
  for (; len >= 12; len -= 12, i += 12) {
    a = (a + (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24))) | 0;
    b = (b + (k[i + 4] | (k[i + 5] << 8) | (k[i + 6] << 16) | (k[i + 7] << 24))) | 0;
    c = (c + (k[i + 8] | (k[i + 9] << 8) | (k[i + 10] << 16) | (k[i + 11] << 24))) | 0;
    mix();
  }
  // The last 0–11 bytes, little-endian; the lowest byte of c is left out, as the server does.
  if (len > 8) c = (c + (len > 10 ? k[i + 10] << 24 : 0) + (len > 9 ? k[i + 9] << 16 : 0) + (k[i + 8] << 8)) | 0;
  if (len > 4) b = (b + (len > 7 ? k[i + 7] << 24 : 0) + (len > 6 ? k[i + 6] << 16 : 0) + (len > 5 ? k[i + 5] << 8 : 0) + k[i + 4]) | 0;
  if (len > 0) a = (a + (len > 3 ? k[i + 3] << 24 : 0) + (len > 2 ? k[i + 2] << 16 : 0) + (len > 1 ? k[i + 1] << 8 : 0) + k[i]) | 0;
  c = (c ^ b) | 0; c = (c - rot(b, 14)) | 0;
  a = (a ^ c) | 0; a = (a - rot(c, 11)) | 0;
  b = (b ^ a) | 0; b = (b - rot(a, 25)) | 0;
  c = (c ^ b) | 0; c = (c - rot(b, 16)) | 0;
  a = (a ^ c) | 0; a = (a - rot(c, 4)) | 0;
  b = (b ^ a) | 0; b = (b - rot(a, 14)) | 0;
  c = (c ^ b) | 0; c = (c - rot(b, 24)) | 0;
}

/** The 64-bit hash as [high, low] unsigned 32-bit halves (the server's int8 is the same bits, signed). */
export function hashTextExtended(text: string, seed: number): [number, number] {
  run(text, seed);
  return [b >>> 0, c >>> 0];
}

/**
 * The hash as the server's signed int8 plus 2^63 (so order is kept and it is never negative), its top
 * 52 bits: a rank exact in a double, which the server compares as `hash <= bound * 2^12 - 2^63 - 1`.
 */
export function hashRank52(text: string, seed: number): number {
  run(text, seed);
  return ((b ^ 0x80000000) >>> 0) * 2 ** 20 + (c >>> 12);
}
