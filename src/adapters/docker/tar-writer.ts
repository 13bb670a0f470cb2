// Deterministic tar writer for image layers and docker-archives. Unlike a feed bundle, an image layer
// needs directories, executables and symlinks (the dynamic loader is reached through /lib64 → …), so
// this writer carries a mode and a link target per entry. Everything else is fixed: uid/gid 0, mtime 0,
// no user/group names, entries sorted by path in code-unit order. Same entries in → same bytes out.
import { createHash } from 'node:crypto';
import type { Digest } from '../../core/formats.js';

export type TarEntry =
  | { kind: 'dir'; path: string; mode: number }
  // data may be a list of chunks so a large file (a layer inside an archive) is never copied
  | { kind: 'file'; path: string; mode: number; data: Uint8Array | readonly Uint8Array[] }
  | { kind: 'symlink'; path: string; target: string };

const BLOCK = 512;

/** Tar bytes as a list of chunks (file contents are referenced, not copied). */
export interface TarChunks {
  chunks: Uint8Array[];
  size: number;
  digest: Digest;
}

function entryName(e: { kind: TarEntry['kind']; path: string }): string {
  const p = e.path.replace(/^\/+/, '').replace(/\/+$/, '');
  return e.kind === 'dir' ? `${p}/` : p;
}

function octal(n: number, width: number): string {
  // width includes the trailing NUL
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function writeString(buf: Buffer, offset: number, width: number, s: string): void {
  buf.write(s, offset, Math.min(width, Buffer.byteLength(s)), 'utf8');
}

/** Split a path into ustar prefix (≤155 bytes) + name (≤100 bytes), or null when it cannot fit. */
function splitUstar(p: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(p) <= 100) return { prefix: '', name: p };
  for (let i = p.length - 1; i > 0; i--) {
    if (p[i] !== '/') continue;
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { prefix, name };
  }
  return null;
}

function header(name: string, prefix: string, mode: number, size: number, type: string, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  writeString(h, 0, 100, name);
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  writeString(h, 157, 100, linkname);
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function paxRecord(key: string, value: string): string {
  // "LEN key=value\n" where LEN counts itself.
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padding(size: number): Buffer | null {
  const rem = size % BLOCK;
  return rem === 0 ? null : Buffer.alloc(BLOCK - rem, 0);
}

/** The header block(s) of one entry: a pax record first when the name or link does not fit ustar. */
function entryHeaders(name: string, kind: TarEntry['kind'], mode: number, size: number, link: string): Buffer[] {
  const out: Buffer[] = [];
  const split = splitUstar(name);
  const pax: string[] = [];
  if (!split) pax.push(paxRecord('path', name));
  if (Buffer.byteLength(link) > 100) pax.push(paxRecord('linkpath', link));
  if (pax.length) {
    const data = Buffer.from(pax.join(''), 'utf8');
    const paxName = `PaxHeaders/${name.replace(/\/$/, '').split('/').pop()!.slice(0, 80)}`;
    out.push(header(paxName, '', 0o644, data.length, 'x', ''), data);
    const pad = padding(data.length);
    if (pad) out.push(pad);
  }
  const { prefix, name: short } = split ?? { prefix: '', name: name.slice(0, 100) };
  const shortLink = Buffer.byteLength(link) > 100 ? '' : link;
  switch (kind) {
    case 'dir':
      out.push(header(short, prefix, mode, 0, '5', ''));
      break;
    case 'symlink':
      out.push(header(short, prefix, mode, 0, '2', shortLink));
      break;
    case 'file':
      out.push(header(short, prefix, mode, size, '0', ''));
      break;
    default: {
      const _exhaustive: never = kind;
      throw new Error(`tar: unknown entry ${String(_exhaustive)}`);
    }
  }
  return out;
}

/** An entry whose bytes are read from a host file while the archive streams, never held whole. */
export type StreamEntry = { kind: 'dir'; path: string; mode: number } | { kind: 'file'; path: string; mode: number; size: number; read: () => AsyncIterable<Uint8Array> };

/**
 * The same layout as tarChunks (sorted, fixed metadata) as a stream: one file's bytes at a time, so a
 * feed bundle or an image archive of hundreds of MB goes to the engine without sitting in memory. A
 * file that changes size while it is read is an error, not a corrupt archive.
 */
export async function* tarStream(entries: readonly StreamEntry[]): AsyncGenerator<Uint8Array> {
  const named = entries.map((e) => ({ name: entryName(e), e })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < named.length; i++) if (named[i - 1]!.name === named[i]!.name) throw new Error(`tar: conflicting entries for ${named[i]!.name}`);
  for (const { name, e } of named) {
    yield* entryHeaders(name, e.kind, e.mode, e.kind === 'file' ? e.size : 0, '');
    if (e.kind !== 'file') continue;
    let n = 0;
    for await (const c of e.read()) {
      n += c.length;
      if (n > e.size) break;
      yield c;
    }
    if (n !== e.size) throw new Error(`tar: ${name} changed size while it was read (${e.size} bytes expected)`);
    const pad = padding(n);
    if (pad) yield pad;
  }
  yield Buffer.alloc(BLOCK * 2, 0);
}

/** Sorted, de-duplicated tar; throws when two entries claim one path with different content. */
export function tarChunks(entries: readonly TarEntry[]): TarChunks {
  const byName = new Map<string, TarEntry>();
  for (const e of entries) {
    const name = entryName(e);
    const prev = byName.get(name) ?? byName.get(name.endsWith('/') ? name.slice(0, -1) : `${name}/`);
    if (prev && !sameEntry(prev, e)) throw new Error(`tar: conflicting entries for ${name}`);
    byName.set(name, e);
  }
  const names = [...byName.keys()].sort();
  const chunks: Uint8Array[] = [];
  const hash = createHash('sha256');
  let size = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    hash.update(b);
    size += b.length;
  };
  for (const name of names) {
    const e = byName.get(name)!;
    const parts = e.kind === 'file' ? fileChunks(e.data) : [];
    const n = parts.reduce((a, b) => a + b.length, 0);
    for (const h of entryHeaders(name, e.kind, e.kind === 'symlink' ? 0o777 : e.mode, n, e.kind === 'symlink' ? e.target : '')) push(h);
    if (e.kind === 'file') {
      for (const c of parts) if (c.length) push(c);
      const pad = padding(n);
      if (pad) push(pad);
    }
  }
  push(Buffer.alloc(BLOCK * 2, 0));
  return { chunks, size, digest: `sha256:${hash.digest('hex')}` };
}

function fileChunks(data: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

function sameEntry(a: TarEntry, b: TarEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'dir' && b.kind === 'dir') return a.mode === b.mode;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'file' && b.kind === 'file') {
    return a.mode === b.mode && Buffer.concat(fileChunks(a.data)).equals(Buffer.concat(fileChunks(b.data)));
  }
  return false;
}

/** Read back entry names, types and sizes (tests and `image inspect`); no extraction. */
export function listTar(bytes: Uint8Array): Array<{ name: string; type: string; size: number; mode: number; linkname: string; offset: number }> {
  const out: Array<{ name: string; type: string; size: number; mode: number; linkname: string; offset: number }> = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  let paxPath: string | null = null;
  let paxLink: string | null = null;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const str = (o: number, w: number) => h.subarray(o, o + w).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12) || '0', 8);
    const type = str(156, 1) || '0';
    const prefix = str(345, 155);
    let name = prefix ? `${prefix}/${str(0, 100)}` : str(0, 100);
    let linkname = str(157, 100);
    const dataOff = off + BLOCK;
    if (type === 'x') {
      const text = buf.subarray(dataOff, dataOff + size).toString('utf8');
      for (const rec of text.split('\n')) {
        const m = /^\d+ ([^=]+)=(.*)$/s.exec(rec);
        if (m?.[1] === 'path') paxPath = m[2];
        if (m?.[1] === 'linkpath') paxLink = m[2];
      }
    } else {
      if (paxPath !== null) name = paxPath;
      if (paxLink !== null) linkname = paxLink;
      paxPath = paxLink = null;
      out.push({ name, type, size, mode: parseInt(str(100, 8) || '0', 8), linkname, offset: dataOff });
    }
    off = dataOff + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
