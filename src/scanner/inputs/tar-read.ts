// Reads a directory input back from the tar the blob store keeps (ustar/pax/GNU long names), in memory
// and only regular files: the scanner never writes an input to disk, so no path can escape anything.
import { StellaError } from '../../core/errors.js';
import type { InputFile } from './common.js';

const BLOCK = 512;

function str(b: Uint8Array, off: number, len: number): string {
  const s = Buffer.from(b.subarray(off, off + len));
  const z = s.indexOf(0);
  return (z >= 0 ? s.subarray(0, z) : s).toString('utf8');
}

function octal(b: Uint8Array, off: number, len: number): number {
  // GNU base-256 for sizes ≥ 8 GiB: first byte has the high bit set.
  if (b[off] & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i];
    return n;
  }
  const t = str(b, off, len).trim();
  return t ? parseInt(t, 8) : 0;
}

export function filesFromTar(tar: Uint8Array, file: string): InputFile[] {
  const out: InputFile[] = [];
  let off = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) break;
    const size = octal(h, 124, 12);
    if (!Number.isFinite(size) || size < 0) throw new StellaError('BUNDLE_UNSAFE', `bad tar header size at byte ${off}`, { file, path: '$' });
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = str(h, 345, 155);
    let name = str(h, 0, 100);
    if (prefix && str(h, 257, 6).startsWith('ustar')) name = `${prefix}/${name}`;
    const dataStart = off + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    if (data.length < size) throw new StellaError('BUNDLE_UNSAFE', `truncated tar entry ${JSON.stringify(name)}`, { file, path: '$' });
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = str(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      paxPath = m ? m[1] : null;
      continue;
    }
    if (type === 'g') continue;
    const entryName = paxPath ?? longName ?? name;
    paxPath = longName = null;
    if (type !== '0' && type !== '\0') continue;
    const clean = entryName.replace(/^\.\//, '');
    if (clean.startsWith('/') || clean.split('/').includes('..')) {
      throw new StellaError('BUNDLE_UNSAFE', `tar entry ${JSON.stringify(entryName)} escapes the input root`, { file, path: '$' });
    }
    out.push({ name: clean, bytes: data });
  }
  return out;
}
