// zstd for feed bundles, through @bokuweb/zstd-wasm (no native build). The wasm module is initialised
// once per process. Compression uses one fixed level so the same tar always gives the same .tar.zst.
//
// Decompression streams through fzstd (the wasm package only decompresses in one shot, into a buffer
// sized from the frame header — a 67 KB bundle declaring 1.9 GiB took 3.9 GB): every frame header is
// checked first (window and declared size), then output flows a block at a time to the tar reader.
import { init, compress } from '@bokuweb/zstd-wasm';
import { Decompress } from 'fzstd';
import { StellaError } from '../core/errors.js';

// Level 9: ~the ratio of 19 on OSV JSON at a fraction of the time; changing it changes every bundle digest.
export const ZSTD_LEVEL = 9;
const MAGIC = 0xfd2fb528;

let ready: Promise<void> | null = null;
function ensureInit(): Promise<void> {
  ready ??= init();
  return ready;
}

export async function zstdCompress(bytes: Uint8Array): Promise<Buffer> {
  await ensureInit();
  const out = compress(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), ZSTD_LEVEL);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Content size declared in the first frame header; null when the frame does not declare it. */
export function zstdFrameContentSize(bytes: Uint8Array): number | null {
  if (bytes.length < 5) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return null;
  const fhd = bytes[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const didSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  if (fcsSize === 0) return null;
  const at = 5 + (single ? 0 : 1) + didSize;
  if (at + fcsSize > bytes.length) return null;
  switch (fcsSize) {
    case 1:
      return bytes[at]!;
    case 2:
      return view.getUint16(at, true) + 256;
    case 4:
      return view.getUint32(at, true);
    default: {
      const big = view.getBigUint64(at, true);
      return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
    }
  }
}

/**
 * Largest window a frame may ask for: zstd's own default decoding limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT,
 * 2^27 = 128 MiB; `zstd -d` refuses more without --memory). The window is the decoder's only large
 * allocation, so this is what bounds memory; bundles stella writes use windows of a few MiB.
 */
export const MAX_WINDOW_BYTES = 128 * 1024 * 1024;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;

/**
 * Walk every frame's header and block headers (no decompression, linear) and refuse a frame whose
 * window (for a single-segment frame: its declared content size) exceeds the limit, or whose declared
 * size alone exceeds the unpacked cap. A decoder then never allocates more than MAX_WINDOW_BYTES.
 */
export function checkZstdFrames(bytes: Uint8Array, maxBytes: number, file?: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (why: string) => new StellaError('BUNDLE_UNSAFE', `zstd data is corrupt or tampered (${why}; digest mismatch with any bundle stella wrote); re-create it with \`stella feed snapshot\``, { file });
  let off = 0;
  let declaredTotal = 0;
  let frames = 0;
  while (off < bytes.length) {
    if (off + 4 > bytes.length) throw corrupt(`trailing ${bytes.length - off} bytes after frame ${frames}`);
    const magic = view.getUint32(off, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      if (off + 8 > bytes.length) throw corrupt('truncated skippable frame');
      off += 8 + view.getUint32(off + 4, true);
      continue;
    }
    if (magic !== MAGIC) {
      if (frames === 0) throw new StellaError('INPUT_UNSUPPORTED', 'not a zstd stream (bad magic number); expected a .tar.zst bundle', { file });
      throw corrupt(`bad magic number at byte ${off}`);
    }
    frames++;
    if (off + 5 > bytes.length) throw corrupt('truncated frame header');
    const fhd = bytes[off + 4]!;
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    const checksum = (fhd >> 2) & 1;
    if (fhd & 8) throw corrupt('reserved bit set in a frame header');
    const didSize = [0, 1, 2, 4][fhd & 3]!;
    const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
    let at = off + 5;
    let window = 0;
    if (!single) {
      if (at >= bytes.length) throw corrupt('truncated frame header');
      const wd = bytes[at]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
      at++;
    }
    at += didSize;
    if (at + fcsSize > bytes.length) throw corrupt('truncated frame header');
    const declared = zstdFrameContentSize(bytes.subarray(off)) ;
    if (declared !== null) {
      declaredTotal += declared;
      if (single) window = declared;
    }
    at += fcsSize;
    if (declared !== null && declaredTotal > maxBytes) {
      throw new StellaError('INPUT_TOO_LARGE', `zstd data declares ${declaredTotal} bytes, over the ${maxBytes}-byte unpacked limit; refusing it before decompressing`, { file });
    }
    if (window > MAX_WINDOW_BYTES) {
      throw new StellaError('INPUT_TOO_LARGE', `zstd frame ${frames} needs a ${window}-byte window, over the ${MAX_WINDOW_BYTES}-byte decoding limit; refusing it before decompressing`, { file });
    }
    for (;;) {
      if (at + 3 > bytes.length) throw corrupt('truncated block header');
      const bh = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
      const last = bh & 1;
      const type = (bh >> 1) & 3;
      const size = bh >>> 3;
      if (type === 3) throw corrupt('reserved block type');
      at += 3 + (type === 1 ? 1 : size);
      if (at > bytes.length) throw corrupt('a block runs past the end of the data');
      if (last) break;
    }
    off = at + (checksum ? 4 : 0);
    if (off > bytes.length) throw corrupt('truncated frame checksum');
  }
  if (frames === 0) throw new StellaError('INPUT_UNSUPPORTED', 'not a zstd stream (no frame); expected a .tar.zst bundle', { file });
}

/**
 * Streaming decompression (fzstd: pure JS, so the same code runs in the scanner image; the wasm package
 * has no streaming decoder): output goes to onChunk a block at a time, never more than maxBytes in all.
 * Memory stays at one window plus one block, whatever the frames declare.
 */
export function zstdDecompressStream(bytes: Uint8Array, maxBytes: number, onChunk: (chunk: Uint8Array) => void, file?: string): void {
  checkZstdFrames(bytes, maxBytes, file);
  let total = 0;
  const d = new Decompress((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw new StellaError('INPUT_TOO_LARGE', `zstd data decompresses to more than ${maxBytes} bytes; refusing it`, { file });
    if (chunk.length) onChunk(chunk);
  });
  const STEP = 1 << 20;
  try {
    for (let off = 0; off < bytes.length; off += STEP) d.push(bytes.subarray(off, Math.min(bytes.length, off + STEP)), off + STEP >= bytes.length);
  } catch (e) {
    if (e instanceof StellaError) throw e;
    throw new StellaError('BUNDLE_UNSAFE', `zstd data is corrupt or tampered (${(e as Error).message}; digest mismatch with any bundle stella wrote); re-create it with \`stella feed snapshot\``, { file }, { cause: e });
  }
}

/** Whole-buffer decompression on top of the stream (for small data and tests). */
export async function zstdDecompress(bytes: Uint8Array, maxBytes: number, file?: string): Promise<Buffer> {
  if (bytes.length < 4 || new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true) !== MAGIC) {
    throw new StellaError('INPUT_UNSUPPORTED', 'not a zstd stream (bad magic number); expected a .tar.zst bundle', { file });
  }
  const parts: Uint8Array[] = [];
  zstdDecompressStream(bytes, maxBytes, (c) => parts.push(c), file);
  return Buffer.concat(parts);
}
