// A minimal ustar/pax writer and a defensive reader, for feed bundles and directory digests.
//
// Writer: regular files only, entries sorted by path (code units), every header field that could vary
// between machines fixed (mtime, uid/gid 0, empty uname/gname, mode 0644), so the same files always give
// the same bytes. Names that do not fit the 100-byte ustar field get a pax `path` record.
//
// Reader: bundles come from elsewhere, so every entry is judged before any byte is handed out: absolute
// paths, `..` segments, links, devices and fifos are refused (BUNDLE_UNSAFE), and the total unpacked size
// and entry count are capped (INPUT_TOO_LARGE) before the data is copied.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import { compareCodeUnits } from '../core/canonical/jcs.js';
import { regularFilesUnder } from './fs.js';

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

export interface UnpackOptions {
  /** Cap on the sum of entry sizes. */
  maxBytes: number;
  /** Cap on the number of entries (headers), so a stream of empty entries cannot run forever. */
  maxEntries: number;
  /** The bundle file, as the user named it, for error messages. */
  file?: string;
}

const BLOCK = 512;

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  // width-1 octal digits, zero padded, then NUL (the form GNU tar and bsdtar write).
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

function header(name: Buffer, size: number, type: string, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0, 0, Math.min(name.length, 100));
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.write('        ', 148, 8, 'ascii');
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

function paxRecord(key: string, value: string): Buffer {
  // "<len> key=value\n" where len counts itself: grow until the digit count is stable.
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** Deterministic tar: entries sorted by path, fixed metadata. Duplicate paths are a caller bug. */
export function packTar(entries: ReadonlyArray<TarEntry>, opts: { mtime?: number } = {}): Buffer {
  const mtime = opts.mtime ?? 0;
  const sorted = [...entries].sort((a, b) => compareCodeUnits(a.path, b.path));
  const parts: Buffer[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.path === e.path) throw new StellaError('USAGE', `packTar: duplicate entry '${e.path}'`);
    checkEntryPath(e.path);
    const name = Buffer.from(e.path, 'utf8');
    const ascii = /^[\x20-\x7e]*$/.test(e.path);
    if (name.length > 100 || !ascii) {
      const pax = paxRecord('path', e.path);
      // The pax header's own name is derived from the entry path, so it is deterministic too.
      parts.push(header(Buffer.from(`PaxHeader/${asciiTail(e.path)}`, 'ascii'), pax.length, 'x', mtime), pax, padding(pax.length));
    }
    const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    parts.push(header(ascii ? name : Buffer.from(asciiTail(e.path), 'ascii'), data.length, '0', mtime), data, padding(data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function asciiTail(p: string): string {
  return p.replace(/[^\x20-\x7e]/g, '_').slice(-80);
}

/** Throws unless p is a relative path that stays inside the root; returns it without `.`/empty segments. */
function checkEntryPath(p: string, file?: string, allowRoot = false): string {
  const unsafe = (why: string) =>
    new StellaError('BUNDLE_UNSAFE', `tar entry '${p}' ${why}; refusing to extract`, { file });
  if (p.length === 0) throw unsafe('has an empty name');
  if (p.includes('\0')) throw unsafe('contains a NUL byte');
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) throw unsafe('is an absolute path');
  const segs = p.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) throw unsafe("escapes the bundle root (a '..' segment)");
  if (segs.length === 0 && !allowRoot) throw unsafe('names the bundle root');
  return segs.join('/');
}

function readString(h: Buffer, offset: number, width: number): string {
  const end = h.indexOf(0, offset);
  return h.toString('utf8', offset, end === -1 || end > offset + width ? offset + width : end);
}

function readOctal(h: Buffer, offset: number, width: number): number {
  // GNU base-256 (high bit set) would only be needed for sizes >= 8 GiB; those exceed any cap anyway.
  if (h[offset]! & 0x80) return Number.MAX_SAFE_INTEGER;
  const s = readString(h, offset, width).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(data.toString('ascii', i, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

const ENTRY_KINDS: Record<string, string> = {
  '1': 'is a hard link',
  '2': 'is a symbolic link',
  '3': 'is a character device',
  '4': 'is a block device',
  '6': 'is a fifo',
  K: 'is a long link name (links are not allowed)',
};

/** Unpack a tar into memory, refusing anything that could escape or overwhelm the destination. */
export function unpackTar(bytes: Uint8Array, opts: UnpackOptions): TarEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { file } = opts;
  const out: TarEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let headers = 0;
  let pax: Record<string, string> = {};
  let longName: string | null = null;
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    if (++headers > opts.maxEntries) {
      throw new StellaError('INPUT_TOO_LARGE', `tar has more than ${opts.maxEntries} entries; refusing to extract`, { file });
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== readOctal(h, 148, 8)) {
      throw new StellaError('BUNDLE_UNSAFE', `tar header at byte ${off} has a bad checksum (corrupt or not a tar)`, { file });
    }
    const size = readOctal(h, 124, 12);
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    const dataStart = off + BLOCK;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    const prefix = readString(h, 345, 155);
    const rawName = longName ?? pax.path ?? (prefix ? `${prefix}/${readString(h, 0, 100)}` : readString(h, 0, 100));
    const entrySize = pax.size !== undefined ? Number(pax.size) : size;
    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > 1024 * 1024) throw new StellaError('BUNDLE_UNSAFE', `tar metadata entry at byte ${off} is implausibly large`, { file });
      if (dataStart + size > buf.length) throw truncated(file);
      const data = buf.subarray(dataStart, dataStart + size);
      // Global pax headers only carry defaults we do not use; per-entry ones apply to the next entry.
      if (type === 'x') pax = parsePax(data);
      if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
      off = next;
      continue;
    }
    const why = ENTRY_KINDS[type];
    if (why) throw new StellaError('BUNDLE_UNSAFE', `tar entry '${rawName}' ${why}; refusing to extract`, { file });
    const entryPath = checkEntryPath(rawName, file, type === '5');
    pax = {};
    longName = null;
    if (type === '5') {
      off = next;
      continue;
    }
    if (type !== '0' && type !== '7') {
      throw new StellaError('BUNDLE_UNSAFE', `tar entry '${rawName}' has unsupported type '${type}'; refusing to extract`, { file });
    }
    total += entrySize;
    if (total > opts.maxBytes || !Number.isSafeInteger(entrySize)) {
      throw new StellaError('INPUT_TOO_LARGE', `tar unpacks to more than ${opts.maxBytes} bytes (at entry '${entryPath}'); refusing to extract`, {
        file,
      });
    }
    if (dataStart + entrySize > buf.length) throw truncated(file);
    if (seen.has(entryPath)) throw new StellaError('BUNDLE_UNSAFE', `tar entry '${entryPath}' appears twice; refusing an ambiguous bundle`, { file });
    seen.add(entryPath);
    out.push({ path: entryPath, data: Buffer.from(buf.subarray(dataStart, dataStart + entrySize)) });
    off = dataStart + Math.ceil(entrySize / BLOCK) * BLOCK;
    // Padding must be zero: otherwise bytes could change without changing any entry, and a tampered
    // bundle whose digest is not pinned would still open.
    if (!isZero(buf, dataStart + entrySize, Math.min(off, buf.length))) throw nonZero(entryPath, file);
  }
  if (off < buf.length && off + BLOCK > buf.length) throw truncated(file);
  if (!isZero(buf, off, buf.length)) throw nonZero('end of archive', file);
  return out;
}

function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

function nonZero(where: string, file?: string): StellaError {
  return new StellaError('BUNDLE_UNSAFE', `tar has non-zero padding after '${where}' (corrupt or tampered)`, { file });
}

function truncated(file?: string): StellaError {
  return new StellaError('BUNDLE_UNSAFE', 'tar is truncated (an entry runs past the end of the data)', { file });
}

/**
 * Tar of a directory's regular files (relative paths, sorted, fixed metadata): the digest of a directory
 * input. Symlinks, devices and other non-regular files are left out — they are not content we scan, and
 * following a link could read outside the input.
 */
export function packDirectory(dir: string): Buffer {
  return packTar(regularFilesUnder(dir).map((r) => ({ path: r, data: readFileSync(path.join(dir, ...r.split('/'))) })));
}
