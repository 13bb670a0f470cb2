// Filesystem edge: strict JSON reads, and writes that never leave a half-written file or directory.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StellaError } from '../core/errors.js';
import { compareCodeUnits } from '../core/canonical/jcs.js';
import { parseJsonBytes } from '../core/json/parse.js';

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
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, target);
  fsyncDir(path.dirname(target));
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
  mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tempName(path.resolve(target));
  mkdirSync(tmp, { recursive: true });
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
