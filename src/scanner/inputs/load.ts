// Reading a scan input from disk: a file, or a directory walked in sorted order (skipping VCS and
// dependency trees, which are not inputs but what lockfiles describe).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../core/errors.js';
import { compareCodeUnits } from '../../core/canonical/index.js';
import { MAX_JSON_BYTES, readBytes } from '../../adapters/fs.js';
import { SKIP_DIRS, kindByName, parseImageInput, parseInputDirectory, parseInputFile, type InputFile, type ScanInput } from './index.js';
import { looksLikeImageArchive, MAX_ARCHIVE_FILE_BYTES } from './image.js';
import { packTar } from '../../adapters/tar.js';
import { regularFilesUnder } from '../../adapters/fs.js';
import { filesFromTar } from './tar-read.js';

/** Every file under dir whose name could be an input, relative and `/`-separated, sorted. */
export function walkInputDir(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const names = readdirSync(path.join(dir, rel)).sort(compareCodeUnits);
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(n) && !n.startsWith('.')) walk(r);
      } else if (st.isFile() && kindByName(n) !== null) out.push(r);
    }
  };
  walk('');
  return out;
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    throw new StellaError('NOT_FOUND', 'no such input file or directory', { file: p });
  }
}

export function readInputDirFiles(dir: string): InputFile[] {
  return walkInputDir(dir).map((rel) => ({ name: rel, bytes: readBytes(path.join(dir, rel)) }));
}

/** An OCI image layout directory (`skopeo copy … oci:DIR`): it has an oci-layout file and index.json. */
export function isOciLayoutDir(dir: string): boolean {
  return existsSync(path.join(dir, 'oci-layout')) && existsSync(path.join(dir, 'index.json'));
}

/** An OCI layout directory as one tar (its regular files, sorted, fixed metadata): what is scanned and stored. */
export function packOciLayoutDir(dir: string): Buffer {
  return packTar(regularFilesUnder(dir).map((r) => ({ path: r, data: readBytes(path.join(dir, ...r.split('/')), MAX_ARCHIVE_FILE_BYTES) })));
}

/**
 * Read and parse the input at p, and the bytes the blob store keeps for it: a file as is; an image
 * archive as is (type oci_archive); an OCI layout directory as a tar of its files; another directory
 * as a tar of the input files in it (only what the scanner reads, so a replay restores exactly that).
 */
export function readScanInputAt(p: string): { parsed: ScanInput; stored: Buffer } {
  if (isDirectory(p)) {
    if (isOciLayoutDir(p)) {
      const stored = packOciLayoutDir(p);
      return { parsed: parseImageInput({ name: p, bytes: stored }), stored };
    }
    const files = readInputDirFiles(p);
    return { parsed: parseInputDirectory(p, files), stored: packTar(files.map((f) => ({ path: f.name, data: f.bytes }))) };
  }
  const stored = readBytes(p, MAX_ARCHIVE_FILE_BYTES);
  if (looksLikeImageArchive(stored)) return { parsed: parseImageInput({ name: p, bytes: stored }), stored };
  if (stored.length > MAX_JSON_BYTES) readBytes(p); // other inputs keep the JSON cap: this throws, naming it
  return { parsed: parseInputFile({ name: p, bytes: stored }), stored };
}

/** Parse the input at p (file, image archive, OCI layout or directory). */
export function loadScanInput(p: string): ScanInput {
  return readScanInputAt(p).parsed;
}

/** Parse an input as a replay sees it: a file, an image archive, or (type directory) the tar the blob store kept. */
export function loadStoredInput(p: string, type: string): ScanInput {
  if (type === 'oci_archive') return parseImageInput({ name: p, bytes: readBytes(p, MAX_ARCHIVE_FILE_BYTES) });
  const bytes = readBytes(p);
  if (type === 'directory') return parseInputDirectory(p, filesFromTar(bytes, p));
  return parseInputFile({ name: p, bytes });
}
