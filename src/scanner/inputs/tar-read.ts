// Tar reading for scan inputs, in memory: the scanner never writes an input to disk, so no entry can
// land anywhere. `walkTar` yields every entry of a ustar/pax/GNU tar (files, directories, links, the
// rest) with its resolved long name and link target, checking header checksums and that no entry runs
// past the end; `filesFromTar` is the directory-input reader on top of it (regular files only).
import { StellaError } from '../../core/errors.js';
import type { InputFile } from './common.js';

const BLOCK = 512;

export type TarEntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarWalkEntry {
  /** Name as written in the archive (pax path / GNU long name applied), not yet cleaned. */
  name: string;
  kind: TarEntryKind;
  /** Link target for symlinks and hard links. */
  linkName: string;
  /** Regular-file content (a view into the archive bytes; empty for other kinds). */
  data: Uint8Array;
  /** Byte offset of the entry's header. */
  offset: number;
}

function str(b: Uint8Array, off: number, len: number): string {
  const s = Buffer.from(b.buffer, b.byteOffset + off, len);
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

function paxRecords(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(buf.toString('ascii', i, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = buf.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * Every entry of a tar, in archive order. `file` names the archive in errors; `where` (optional) is
 * prepended to entry names in them (e.g. the layer inside an image archive).
 */
export function* walkTar(tar: Uint8Array, file: string, where = ''): Generator<TarWalkEntry> {
  const place = (name: string) => (where ? `${where}:${name}` : name);
  let off = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax: Record<string, string> = {};
  let last = '(start of archive)';
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== octal(h, 148, 8)) {
      throw new StellaError('BUNDLE_UNSAFE', `bad tar header checksum at byte ${off}, after entry ${JSON.stringify(last)} (corrupt or not a tar)`, { file, path: place(last) });
    }
    const size = pax.size !== undefined ? Number(pax.size) : octal(h, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw new StellaError('BUNDLE_UNSAFE', `bad tar entry size at byte ${off}`, { file, path: place(last) });
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = str(h, 345, 155);
    let name = str(h, 0, 100);
    if (prefix && str(h, 257, 5) === 'ustar') name = `${prefix}/${name}`;
    const dataStart = off + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    const entryName = pax.path ?? longName ?? name;
    if (data.length < size) throw new StellaError('BUNDLE_UNSAFE', `truncated tar entry ${JSON.stringify(place(entryName))}`, { file, path: '$' });
    const entryOffset = off;
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (type === 'L') longName = str(data, 0, data.length);
      if (type === 'K') longLink = str(data, 0, data.length);
      if (type === 'x') pax = paxRecords(data);
      continue;
    }
    const linkName = pax.linkpath ?? longLink ?? str(h, 157, 100);
    pax = {};
    longName = longLink = null;
    last = entryName;
    const kind: TarEntryKind =
      type === '0' || type === '7' ? 'file' : type === '5' ? 'dir' : type === '2' ? 'symlink' : type === '1' ? 'hardlink' : 'other';
    yield { name: entryName, kind, linkName, data: kind === 'file' ? data : new Uint8Array(0), offset: entryOffset };
  }
  if (off < tar.length || off === 0) {
    throw new StellaError('BUNDLE_UNSAFE', `tar is truncated after entry ${JSON.stringify(last)} (no end-of-archive blocks)`, { file, path: place(last) });
  }
}

/** `./a/b/` → `a/b`; null for a path that is absolute-looking after cleaning or climbs out with `..`. */
export function cleanTarPath(name: string): string | null {
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) return null;
  return segs.join('/');
}

export function filesFromTar(tar: Uint8Array, file: string): InputFile[] {
  const out: InputFile[] = [];
  for (const e of walkTar(tar, file)) {
    if (e.kind !== 'file') continue;
    const clean = e.name.replace(/^\.\//, '');
    if (clean.startsWith('/') || clean.split('/').includes('..')) {
      throw new StellaError('BUNDLE_UNSAFE', `tar entry ${JSON.stringify(e.name)} escapes the input root`, { file, path: '$' });
    }
    out.push({ name: clean, bytes: e.data });
  }
  return out;
}
