// Content-addressed blob store (SPEC §1.6): `$STELLA_HOME/blobs/sha256/<aa>/<rest>`. Writes go through
// temp file + fsync + rename; every read re-hashes the bytes, so a corrupted blob is never handed out.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readdirSync, statSync, copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StellaError } from '../core/errors.js';
import { DIGEST_RE, type Digest } from '../core/formats.js';
import type { BlobStorePort } from '../core/ports.js';
import { openRegular, readRegular, writeFileAtomic } from './fs.js';

export function stellaHome(env: NodeJS.ProcessEnv, cwd: string): string {
  return path.resolve(cwd, env.STELLA_HOME || '.stella');
}

export function assertDigest(digest: string, place: { file?: string; path?: string } = {}): asserts digest is Digest {
  if (!DIGEST_RE.test(digest)) {
    throw new StellaError('DIGEST_INVALID', `'${digest}' is not a digest (expected sha256: followed by 64 lowercase hex)`, place);
  }
}

function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export class BlobStore implements BlobStorePort {
  readonly root: string;

  constructor(readonly home: string) {
    this.root = path.join(home, 'blobs', 'sha256');
  }

  static fromEnv(env: NodeJS.ProcessEnv, cwd: string): BlobStore {
    return new BlobStore(stellaHome(env, cwd));
  }

  /** Where a blob lives, whether or not it exists. */
  location(digest: string): string {
    assertDigest(digest);
    const hex = digest.slice('sha256:'.length);
    return path.join(this.root, hex.slice(0, 2), hex.slice(2));
  }

  put(bytes: Uint8Array): Digest {
    const digest = sha256(bytes);
    const target = this.location(digest);
    // Idempotent: an intact existing copy is kept; a corrupt one is replaced.
    if (this.has(digest) && this.intact(target, digest)) return digest;
    writeFileAtomic(target, bytes);
    return digest;
  }

  /** Hash a (possibly large) file by streaming, then copy it in atomically. */
  async putFile(file: string): Promise<Digest> {
    const digest = await hashFile(file);
    const target = this.location(digest);
    if (this.has(digest) && (await hashBlobFile(target, digest).catch(() => null)) === digest) return digest;
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      copyFileSync(file, tmp);
      if ((await hashFile(tmp)) !== digest) {
        throw new StellaError('IO', 'file changed while it was being stored', { file });
      }
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return digest;
  }

  /** True when something is stored under the digest (even something that is not a regular file: get refuses that). */
  has(digest: string): boolean {
    try {
      lstatSync(this.location(digest));
      return true;
    } catch {
      return false;
    }
  }

  get(digest: string): Buffer {
    const file = this.location(digest);
    if (!this.has(digest)) throw missingBlob(digest);
    const bytes = readBlobFile(file, digest);
    const actual = sha256(bytes);
    if (actual !== digest) throw corruptBlob(file, digest, actual);
    return bytes;
  }

  /** Path for a read-only bind mount, after checking the bytes still match the digest. */
  pathOf(digest: string): string {
    this.get(digest);
    return this.location(digest);
  }

  /** Verify one blob without loading the caller with its bytes; throws BLOB_MISSING / BLOB_CORRUPT. */
  async verify(digest: string): Promise<void> {
    const file = this.location(digest);
    if (!this.has(digest)) throw missingBlob(digest);
    const actual = await hashBlobFile(file, digest);
    if (actual !== digest) throw corruptBlob(file, digest, actual);
  }

  list(): Digest[] {
    if (!existsSync(this.root)) return [];
    const out: Digest[] = [];
    for (const aa of readdirSync(this.root).sort()) {
      if (!/^[0-9a-f]{2}$/.test(aa)) continue;
      for (const rest of readdirSync(path.join(this.root, aa)).sort()) {
        if (/^[0-9a-f]{62}$/.test(rest)) out.push(`sha256:${aa}${rest}`);
      }
    }
    return out;
  }

  size(digest: string): number {
    return statSync(this.location(digest)).size;
  }

  private intact(file: string, digest: Digest): boolean {
    try {
      return sha256(readBlobFile(file, digest)) === digest;
    } catch {
      return false;
    }
  }
}

/** A blob must be a regular file: a FIFO, directory, socket, device or link in its place is refused at once. */
function notRegular(file: string, digest: string, why: string): StellaError {
  return new StellaError('BLOB_CORRUPT', `blob ${digest} ${why}; remove it and restore the blob from its source`, { file });
}

function readBlobFile(file: string, digest: string): Buffer {
  try {
    return readRegular(file, { code: 'BLOB_CORRUPT' });
  } catch (e) {
    if (e instanceof StellaError && e.code === 'BLOB_CORRUPT') throw notRegular(file, digest, e.message);
    throw e;
  }
}

function hashBlobFile(file: string, digest: string): Promise<Digest> {
  let fd: number;
  try {
    fd = openRegular(file, { code: 'BLOB_CORRUPT' }).fd;
  } catch (e) {
    if (e instanceof StellaError && e.code === 'BLOB_CORRUPT') return Promise.reject(notRegular(file, digest, e.message));
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream('', { fd, autoClose: true });
    s.on('error', (e) => reject(new StellaError('IO', `cannot read: ${(e as Error).message}`, { file })));
    s.on('data', (chunk) => h.update(chunk));
    s.on('end', () => resolve(`sha256:${h.digest('hex')}`));
  });
}

export function hashFile(file: string): Promise<Digest> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream(file);
    s.on('error', (e) => reject(new StellaError('NOT_FOUND', `cannot read: ${(e as Error).message}`, { file })));
    s.on('data', (chunk) => h.update(chunk));
    s.on('end', () => resolve(`sha256:${h.digest('hex')}`));
  });
}

function missingBlob(digest: string): StellaError {
  return new StellaError(
    'BLOB_MISSING',
    `blob ${digest} is not in the store; restore it with \`stella blob put FILE\` (or \`stella feed snapshot\` / ` +
      '`stella policy bundle` / `stella image build` for bundles and images), or point STELLA_HOME at the store that has it',
  );
}

function corruptBlob(file: string, expected: string, actual: string): StellaError {
  return new StellaError('BLOB_CORRUPT', `blob bytes no longer match their digest: expected ${expected}, found ${actual} (digest mismatch: the blob was altered); restore the blob from its source`, {
    file,
  });
}
