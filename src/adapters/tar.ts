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
  const out: TarEntry[] = [];
  const r = new TarReader(opts, (e) => out.push(e));
  r.push(bytes);
  r.end();
  return out;
}

/**
 * The same checks as unpackTar, fed in chunks (from a streaming decompressor): each entry is judged at
 * its header, before its data arrives, and handed to onEntry when complete. Memory: one entry.
 */
type Want =
  | { kind: 'header' }
  | { kind: 'meta'; type: string; size: number; at: number }
  | { kind: 'data'; path: string; size: number }
  | { kind: 'pad'; n: number; after: string }
  | { kind: 'trailer' };

export class TarReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Absolute offset of the first pending byte. */
  private off = 0;
  private seen = new Set<string>();
  private total = 0;
  private headers = 0;
  private pax: Record<string, string> = {};
  private longName: string | null = null;
  private ended = false;
  /** What the next bytes are. */
  private want: Want = { kind: 'header' };

  constructor(
    private readonly opts: UnpackOptions & { maxEntryBytes?: number },
    private readonly onEntry: (e: TarEntry) => void,
  ) {}

  private take(n: number): Buffer | null {
    if (this.pendingBytes < n) return null;
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    this.off += n;
    return head;
  }

  push(chunk: Uint8Array): void {
    const { file } = this.opts;
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.want.kind === 'trailer') {
      if (!isZero(b, 0, b.length)) throw nonZero('end of archive', file);
      this.off += b.length;
      return;
    }
    this.pending.push(b);
    this.pendingBytes += b.length;
    for (;;) {
      const w: Want = this.want;
      if (w.kind === 'trailer') {
        const rest = this.take(this.pendingBytes)!;
        if (!isZero(rest, 0, rest.length)) throw nonZero('end of archive', file);
        return;
      }
      if (w.kind === 'pad') {
        const pad = this.take(w.n);
        if (!pad) return;
        if (!isZero(pad, 0, pad.length)) throw nonZero(w.after, file);
        this.want = { kind: 'header' };
        continue;
      }
      if (w.kind === 'meta') {
        const data = this.take(w.size);
        if (!data) return;
        if (w.type === 'x') this.pax = parsePax(data);
        if (w.type === 'L') this.longName = data.toString('utf8').replace(/\0+$/, '');
        this.want = { kind: 'pad', n: padLen(w.size), after: `metadata at byte ${w.at}` };
        continue;
      }
      if (w.kind === 'data') {
        const data = this.take(w.size);
        if (!data) return;
        this.onEntry({ path: w.path, data: Buffer.from(data) });
        this.want = { kind: 'pad', n: padLen(w.size), after: w.path };
        continue;
      }
      const at = this.off;
      const h = this.take(BLOCK);
      if (!h) return;
      if (h.every((x) => x === 0)) {
        this.want = { kind: 'trailer' };
        continue;
      }
      this.header(h, at);
    }
  }

  private header(h: Buffer, off: number): void {
    const { file } = this.opts;
    if (++this.headers > this.opts.maxEntries) {
      throw new StellaError('INPUT_TOO_LARGE', `tar has more than ${this.opts.maxEntries} entries; refusing to extract`, { file });
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== readOctal(h, 148, 8)) {
      throw new StellaError('BUNDLE_UNSAFE', `tar header at byte ${off} has a bad checksum (corrupt or not a tar)`, { file });
    }
    const size = readOctal(h, 124, 12);
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    const prefix = readString(h, 345, 155);
    const rawName = this.longName ?? this.pax.path ?? (prefix ? `${prefix}/${readString(h, 0, 100)}` : readString(h, 0, 100));
    const entrySize = this.pax.size !== undefined ? Number(this.pax.size) : size;
    if (type === 'x' || type === 'g' || type === 'L') {
      if (size > 1024 * 1024) throw new StellaError('BUNDLE_UNSAFE', `tar metadata entry at byte ${off} is implausibly large`, { file });
      // Global pax headers only carry defaults we do not use; per-entry ones apply to the next entry.
      this.want = { kind: 'meta', type, size, at: off };
      return;
    }
    const why = ENTRY_KINDS[type];
    if (why) throw new StellaError('BUNDLE_UNSAFE', `tar entry '${rawName}' ${why}; refusing to extract`, { file });
    const entryPath = checkEntryPath(rawName, file, type === '5');
    this.pax = {};
    this.longName = null;
    if (type === '5') {
      this.want = { kind: 'pad', n: Math.ceil(size / BLOCK) * BLOCK, after: entryPath };
      return;
    }
    if (type !== '0' && type !== '7') {
      throw new StellaError('BUNDLE_UNSAFE', `tar entry '${rawName}' has unsupported type '${type}'; refusing to extract`, { file });
    }
    this.total += entrySize;
    if (this.total > this.opts.maxBytes || !Number.isSafeInteger(entrySize)) {
      throw new StellaError('INPUT_TOO_LARGE', `tar unpacks to more than ${this.opts.maxBytes} bytes (at entry '${entryPath}'); refusing to extract`, { file });
    }
    if (this.opts.maxEntryBytes !== undefined && entrySize > this.opts.maxEntryBytes) {
      throw new StellaError('INPUT_TOO_LARGE', `tar entry '${entryPath}' is ${entrySize} bytes, over the ${this.opts.maxEntryBytes}-byte limit for one file; refusing to extract`, { file });
    }
    if (this.seen.has(entryPath)) throw new StellaError('BUNDLE_UNSAFE', `tar entry '${entryPath}' appears twice; refusing an ambiguous bundle`, { file });
    this.seen.add(entryPath);
    this.want = { kind: 'data', path: entryPath, size: entrySize };
  }

  /** The input is over: anything but a clean end (between entries, or in the zero trailer) is truncation. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.want;
    if (w.kind === 'trailer') return;
    if (w.kind === 'header' && this.pendingBytes === 0) return;
    // Data that stops inside a header, an entry or its padding.
    throw truncated(this.opts.file);
  }
}

function padLen(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
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
