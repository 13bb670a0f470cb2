// Reading a scan input from disk: a file, or a directory walked in sorted order (skipping VCS and
// dependency trees, which are not inputs but what lockfiles describe).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../core/errors.js';
import { compareCodeUnits } from '../../core/canonical/index.js';
import { readBytes } from '../../adapters/fs.js';
import { SKIP_DIRS, kindByName, parseInputDirectory, parseInputFile, type InputFile, type ScanInput } from './index.js';
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

/** Parse the input at p (file or directory). */
export function loadScanInput(p: string): ScanInput {
  if (isDirectory(p)) return parseInputDirectory(p, readInputDirFiles(p));
  return parseInputFile({ name: p, bytes: readBytes(p) });
}

/** Parse an input as a replay sees it: a file, or (type directory) the tar the blob store kept. */
export function loadStoredInput(p: string, type: string): ScanInput {
  const bytes = readBytes(p);
  if (type === 'directory') return parseInputDirectory(p, filesFromTar(bytes, p));
  return parseInputFile({ name: p, bytes });
}
