// Filesystem edge: strict JSON reads, and writes that never leave a half-written file or directory.
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync, existsSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StellaError } from '../core/errors.js';
import { compareCodeUnits } from '../core/canonical/jcs.js';
import { parseJsonBytes } from '../core/json/parse.js';
import { checkRecordPath } from '../core/record-path.js';

/** Default cap on any single JSON input (SPEC §7: oversized inputs are refused). */
export const MAX_JSON_BYTES = 512 * 1024 * 1024;

export function readBytes(file: string, maxBytes = MAX_JSON_BYTES): Buffer {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new StellaError('NOT_FOUND', 'no such file', { file });
  }
  if (size > maxBytes) {
    throw new StellaError('INPUT_TOO_LARGE', `file is ${size} bytes, over the ${maxBytes}-byte limit`, { file, path: '$' });
  }
  return readFileSync(file);
}

export function readJsonFile(file: string, maxBytes = MAX_JSON_BYTES): unknown {
  return parseJsonBytes(readBytes(file, maxBytes), file);
}

// Temp names must not collide between concurrent writers; they are never part of any output.
function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** temp file + fsync + rename: readers see the old file or the whole new one. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const tmp = tempName(target);
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    // An output path that is a directory, or under a file, or not writable: one line naming it, no temp left.
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    throw new StellaError('IO', `cannot write the file: ${writeProblem(e)}`, { file: target }, { cause: e });
  }
  fsyncDir(path.dirname(target));
}

function writeProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'it or a parent of it is a file, not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on the device';
  return (e as Error)?.message ?? String(e);
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  }
}

/**
 * Build a whole directory (a scan or replay record) in a sibling temp dir, then rename it into
 * place, so a crash or an error leaves nothing half-written. Refuses to replace a non-empty target.
 */
export async function writeDirAtomic<T>(target: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  if (existsSync(target)) {
    const st = statSync(target);
    if (!st.isDirectory()) throw new StellaError('IO', 'output path exists and is not a directory', { file: target });
  }
  const tmp = tempName(path.resolve(target));
  try {
    mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
    mkdirSync(tmp, { recursive: true });
  } catch (e) {
    // The out dir is a file, or under one, or not writable: one line naming it.
    throw new StellaError('IO', `cannot create the output directory: ${writeProblem(e)}`, { file: path.dirname(path.resolve(target)) }, { cause: e });
  }
  try {
    const result = await fill(tmp);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    fsyncDir(path.dirname(path.resolve(target)));
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Regular files under a directory as `/`-separated relative paths in code-unit order. Links are not
 * followed and devices are left out: they are not content, and a link could reach outside the tree.
 */
export function regularFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      const p = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else if (st.isFile()) out.push(r);
    }
  };
  walk(dir, '');
  return out.sort(compareCodeUnits);
}

/** What a non-regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface OpenRegularOptions {
  /** Refuse a file with more than one hard link (a link could alias a file outside the tree). */
  singleLink?: boolean;
  maxBytes?: number;
  /** Error code for a non-regular file (default IO). */
  code?: 'IO' | 'BLOB_CORRUPT' | 'RECORD_INVALID';
}

/**
 * Open a file that must be a regular file, without following a link and without blocking: O_NOFOLLOW
 * refuses a symlink in the last component, O_NONBLOCK keeps a FIFO from hanging the open, and fstat on
 * the open descriptor decides (no window between the check and the read). Returns the fd and its stats.
 */
export function openRegular(file: string, opts: OpenRegularOptions = {}): { fd: number; st: Stats } {
  const code = opts.code ?? 'IO';
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const c = (e as { code?: string }).code;
    if (c === 'ENOENT') throw new StellaError('NOT_FOUND', 'no such file', { file });
    if (c === 'ELOOP' || c === 'EMLINK') throw new StellaError(code, 'is a symbolic link; refusing to follow it', { file });
    if (c === 'ENXIO') throw new StellaError(code, 'is a socket; refusing to read it', { file });
    throw new StellaError(code, `cannot open: ${(e as Error).message}`, { file });
  }
  const st = fstatSync(fd);
  const refuse = (why: string): never => {
    closeSync(fd);
    throw new StellaError(code, why, { file });
  };
  if (!st.isFile()) refuse(`is ${fileKind(st)}, not a regular file; refusing to read it`);
  if (opts.singleLink && st.nlink !== 1) refuse(`has ${st.nlink} hard links; refusing a file that may alias another`);
  if (opts.maxBytes !== undefined && st.size > opts.maxBytes) refuse(`file is ${st.size} bytes, over the ${opts.maxBytes}-byte limit`);
  return { fd, st };
}

/** Read a whole regular file through openRegular (never more than its fstat size, or the cap). */
export function readRegular(file: string, opts: OpenRegularOptions = {}): Buffer {
  const { fd, st } = openRegular(file, opts);
  try {
    const cap = opts.maxBytes ?? st.size;
    const buf = Buffer.allocUnsafe(Math.min(st.size, cap));
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * The one safe way to read a file a record names (artifacts in diff, explain, index, workstation,
 * repro): the relative path is checked by the pure rule (no absolute, escaping or odd paths), every
 * directory between the record root and the file is checked not to be a link, and the file itself is
 * opened with openRegular (no link, regular, one hard link).
 */
export function readRecordFile(recordDir: string, rel: string, opts: { maxBytes?: number; file?: string; path?: string } = {}): Buffer {
  const segs = checkRecordPath(rel, { file: opts.file ?? path.join(recordDir, 'replay.json'), path: opts.path });
  if (!directoriesOnTheWay(recordDir, segs, rel)) throw new StellaError('NOT_FOUND', 'no such file', { file: path.join(recordDir, ...segs) });
  return readRegular(path.join(recordDir, ...segs), { singleLink: true, code: 'RECORD_INVALID', maxBytes: opts.maxBytes ?? MAX_JSON_BYTES });
}

/** Every directory between the record root and the file is a directory, not a link (false: one is missing). */
function directoriesOnTheWay(recordDir: string, segs: string[], rel: string): boolean {
  let cur = recordDir;
  for (const seg of segs.slice(0, -1)) {
    cur = path.join(cur, seg);
    let st: Stats;
    try {
      st = lstatSync(cur);
    } catch {
      return false;
    }
    if (!st.isDirectory()) throw new StellaError('RECORD_INVALID', `artifact path '${rel}' passes through ${fileKind(st)}; refusing to follow it`, { file: cur });
  }
  return true;
}

/**
 * What readRecordFile would refuse about a path a record names, without reading the file (the index
 * records artifact paths, it does not read the artifacts): the path rule, a link on the way, a file
 * that is a link, not regular or has more than one hard link. A file that is not there is not refused.
 */
export function checkRecordFile(recordDir: string, rel: unknown, place: { file: string; path: string }): void {
  const segs = checkRecordPath(rel, place);
  if (!directoriesOnTheWay(recordDir, segs, segs.join('/'))) return;
  const file = path.join(recordDir, ...segs);
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) throw new StellaError('RECORD_INVALID', 'is a symbolic link; refusing to follow it', { file });
  if (!st.isFile()) throw new StellaError('RECORD_INVALID', `is ${fileKind(st)}, not a regular file; refusing to read it`, { file });
  if (st.nlink !== 1) throw new StellaError('RECORD_INVALID', `has ${st.nlink} hard links; refusing a file that may alias another`, { file });
}

/** A record's own file (manifest.json, outputs.json, replay.json): regular, not a link, one hard link. */
export function readRecordBytes(file: string, maxBytes = MAX_JSON_BYTES): Buffer {
  return readRegular(file, { singleLink: true, code: 'RECORD_INVALID', maxBytes });
}
