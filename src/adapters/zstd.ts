// zstd for feed bundles, through @bokuweb/zstd-wasm (no native build). The wasm module is initialised
// once per process. Compression uses one fixed level so the same tar always gives the same .tar.zst.
//
// The package's one-shot decompress sizes its output buffer from the frame header; frames written by a
// streaming compressor (`zstd -` from a pipe) carry no content size, and then it guesses 1 MiB and fails
// on anything larger. So we read the header ourselves: a declared size above the cap is refused before
// any allocation (a zip bomb never expands), and an undeclared size is retried with a growing buffer up
// to the cap.
import { init, compress, decompress } from '@bokuweb/zstd-wasm';
import { StellaError } from '../core/errors.js';

// Level 9: ~the ratio of 19 on OSV JSON at a fraction of the time; changing it changes every bundle digest.
export const ZSTD_LEVEL = 9;
const MAGIC = 0xfd2fb528;
/** Largest output tried for frames that do not declare their size. */
export const UNSIZED_MAX = 512 * 1024 * 1024;

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

export async function zstdDecompress(bytes: Uint8Array, maxBytes: number, file?: string): Promise<Buffer> {
  await ensureInit();
  if (bytes.length < 4 || new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true) !== MAGIC) {
    throw new StellaError('INPUT_UNSUPPORTED', 'not a zstd stream (bad magic number); expected a .tar.zst bundle', { file });
  }
  const tooLarge = () => new StellaError('INPUT_TOO_LARGE', `zstd data decompresses to more than ${maxBytes} bytes; refusing it`, { file });
  const declared = zstdFrameContentSize(bytes);
  if (declared !== null && declared > maxBytes) throw tooLarge();
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Without a declared size the package cannot stream; grow the output buffer up to UNSIZED_MAX (a wasm
  // malloc of gigabytes fails, and the package does not check for that).
  const limit = declared === null ? Math.min(maxBytes, UNSIZED_MAX) : maxBytes;
  let capacity = Math.min(limit, Math.max(declared ?? 0, 1024 * 1024, src.length * 8));
  for (;;) {
    try {
      // With a declared size the package allocates exactly that; defaultHeapSize only matters without one.
      const out = declared !== null ? decompress(src) : decompress(src, { defaultHeapSize: capacity });
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      if (declared === null && capacity < limit) {
        capacity = Math.min(limit, capacity * 4);
        continue;
      }
      if (declared === null) {
        throw new StellaError(
          'INPUT_TOO_LARGE',
          `zstd data without a declared content size did not decompress within ${limit} bytes (corrupt, or too large for one-shot decompression); re-create it with \`stella feed snapshot\``,
          { file },
        );
      }
      throw new StellaError('BUNDLE_UNSAFE', `zstd data is corrupt (${(e as Error).message}); re-create the bundle`, { file }, { cause: e });
    }
  }
}
