// Input detection and dispatch: one parser per format, chosen by file name, then by content for
// JSON SBOMs. A directory is every supported file in it, in sorted path order.
import path from 'node:path';
import { StellaError, isStellaError } from '../../core/errors.js';
import type { InputType } from '../../core/formats.js';
import { compareCodeUnits } from '../../core/canonical/index.js';
import type { ScanPackage } from '../types.js';
import { dedupePackages, jsonOf, type InputFile, type ParsedInput } from './common.js';
import { isCycloneDx, parseCycloneDx } from './cyclonedx.js';
import { isSpdx, parseSpdx } from './spdx.js';
import { isPackageLock, parsePackageLock } from './package-lock.js';
import { parsePoetryLock } from './poetry-lock.js';
import { parseRequirements } from './requirements.js';
import { parseGoMod } from './gomod.js';
import { parseCargoLock } from './cargo-lock.js';
import { parseImageArchive, type ImageFacts } from './image.js';

export type { InputFile, ParsedInput } from './common.js';
export { packageOfPurl } from './common.js';
export { parseCycloneDx, parseSpdx, parsePackageLock, parsePoetryLock, parseRequirements, parseGoMod, parseCargoLock };

export type InputKind = 'cyclonedx' | 'spdx' | 'package-lock' | 'poetry-lock' | 'requirements' | 'go-mod' | 'cargo-lock';
/** What read a file: an input parser, or (inside images) an OS inventory reader. */
export type FileKind = InputKind | 'dpkg-status' | 'apk-installed' | 'rpm-sqlite';
export type { ImageFacts } from './image.js';

/** Directories a walk does not enter: VCS data and installed dependency trees (what lockfiles describe). */
export const SKIP_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.hg', '.svn', 'target', 'vendor', '__pycache__', '.venv']);

/** A relative path a directory scan reads: no skipped or hidden directory on the way, a known name. */
export function isInputPath(rel: string): boolean {
  const segs = rel.split('/');
  if (segs.slice(0, -1).some((d) => SKIP_DIRS.has(d) || d.startsWith('.'))) return false;
  return kindByName(segs[segs.length - 1]) !== null;
}

/** The format a file name promises, before looking inside. `json` = sniff the content. */
export function kindByName(name: string): InputKind | 'json' | 'go-sum' | null {
  const base = path.posix.basename(name.replace(/\\/g, '/'));
  if (base === 'package-lock.json' || base === 'npm-shrinkwrap.json') return 'package-lock';
  if (base === 'poetry.lock') return 'poetry-lock';
  if (base === 'Cargo.lock') return 'cargo-lock';
  if (base === 'go.mod') return 'go-mod';
  if (base === 'go.sum') return 'go-sum';
  if (/^requirements.*\.txt$/.test(base) || /\.requirements\.txt$/.test(base)) return 'requirements';
  if (base.endsWith('.json')) return 'json';
  return null;
}

function sniffJson(doc: unknown): InputKind | null {
  if (isCycloneDx(doc)) return 'cyclonedx';
  if (isSpdx(doc)) return 'spdx';
  if (isPackageLock(doc)) return 'package-lock';
  return null;
}

function parseOne(kind: InputKind, file: InputFile, doc: unknown, goSum?: InputFile): ParsedInput {
  switch (kind) {
    case 'cyclonedx':
      return parseCycloneDx(file, doc);
    case 'spdx':
      return parseSpdx(file, doc);
    case 'package-lock':
      return parsePackageLock(file, doc);
    case 'poetry-lock':
      return parsePoetryLock(file);
    case 'requirements':
      return parseRequirements(file);
    case 'go-mod':
      return parseGoMod(file, goSum);
    case 'cargo-lock':
      return parseCargoLock(file);
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

const SUPPORTED = 'CycloneDX JSON, SPDX 2.2/2.3 JSON, package-lock.json v2/v3, poetry.lock, requirements.txt, go.mod, Cargo.lock, or a directory of these';

export interface ScanInput extends ParsedInput {
  type: InputType;
  /** Which parser read which file, in order. */
  files: Array<{ name: string; kind: FileKind }>;
  /** Image inputs: config digest, layer diff_ids, os-release. */
  image?: ImageFacts;
}

/**
 * Parse a container image archive (docker save or OCI layout, as a tar). The lockfiles found in its
 * layers are read as a directory input's would be (same parsers, same skipped directories).
 */
export function parseImageInput(file: InputFile): ScanInput {
  const r = parseImageArchive(file.bytes, file.name, (files) => {
    // Each lockfile on its own (go.mod with the go.sum beside it): a file in an image that does not
    // parse is someone else's content, so it becomes a note naming it, not the end of the scan.
    const byName = new Map(files.map((f) => [f.name, f]));
    const out: { packages: ScanPackage[]; notes: string[]; files: ScanInput['files'] } = { packages: [], notes: [], files: [] };
    for (const f of files) {
      if (!isInputPath(f.name) || kindByName(f.name) === 'go-sum') continue;
      const dir = path.posix.dirname(f.name);
      const goSum = byName.get(dir === '.' ? 'go.sum' : `${dir}/go.sum`);
      try {
        const d = parseInputDirectory(file.name, goSum && kindByName(f.name) === 'go-mod' ? [f, goSum] : [f]);
        out.packages.push(...d.packages);
        out.notes.push(...d.notes);
        out.files.push(...d.files);
      } catch (e) {
        if (!isStellaError(e)) throw e;
        out.notes.push(`${f.name}: not read (${e.oneLine()})`);
      }
    }
    return out;
  });
  return { packages: r.packages, notes: r.notes, type: 'oci_archive', files: r.files as ScanInput['files'], image: r.image };
}

/** Parse one input file; an unknown kind is an error naming the file. */
export function parseInputFile(file: InputFile): ScanInput {
  const byName = kindByName(file.name);
  let kind: InputKind | null = null;
  let doc: unknown;
  if (byName === 'json' || byName === 'package-lock') {
    doc = jsonOf(file);
    kind = byName === 'package-lock' ? 'package-lock' : sniffJson(doc);
  } else if (byName !== null && byName !== 'go-sum') kind = byName;
  else if (byName === null && looksLikeJson(file.bytes)) {
    doc = jsonOf(file);
    kind = sniffJson(doc);
  }
  if (!kind) throw new StellaError('INPUT_UNSUPPORTED', `unknown input type; supported: ${SUPPORTED}`, { file: file.name, path: '$' });
  const parsed = parseOne(kind, file, doc);
  return { ...parsed, type: kind === 'cyclonedx' || kind === 'spdx' ? 'sbom' : 'lockfile', files: [{ name: file.name, kind }] };
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x7b;
  }
  return false;
}

/**
 * Parse every supported file of a directory (names relative to it, `/`-separated). JSON files are
 * read only when their name says lockfile or their bytes say SBOM, so a package.json is not an error.
 * go.sum pairs with the go.mod beside it.
 */
export function parseInputDirectory(dirName: string, files: InputFile[]): ScanInput {
  const sorted = files.filter((f) => isInputPath(f.name)).sort((a, b) => compareCodeUnits(a.name, b.name));
  const byName = new Map(sorted.map((f) => [f.name, f]));
  const packages: ScanPackage[] = [];
  const notes: string[] = [];
  const used: ScanInput['files'] = [];
  for (const f of sorted) {
    const k = kindByName(f.name);
    if (k === null || k === 'go-sum') continue;
    let kind: InputKind | null = k === 'json' ? null : k;
    let doc: unknown;
    if (k === 'json') {
      const head = Buffer.from(f.bytes.subarray(0, 4096)).toString('latin1');
      if (!/"bomFormat"|"spdxVersion"/.test(head)) continue;
      doc = jsonOf(f);
      kind = isCycloneDx(doc) ? 'cyclonedx' : isSpdx(doc) ? 'spdx' : null;
      if (!kind) continue;
    } else if (k === 'package-lock') doc = jsonOf(f);
    const dir = path.posix.dirname(f.name);
    const goSum = kind === 'go-mod' ? byName.get(dir === '.' ? 'go.sum' : `${dir}/go.sum`) : undefined;
    const parsed = parseOne(kind!, f, doc, goSum);
    packages.push(...parsed.packages);
    notes.push(...parsed.notes);
    used.push({ name: f.name, kind: kind! });
  }
  if (used.length === 0) throw new StellaError('INPUT_UNSUPPORTED', `no supported input file in the directory; supported: ${SUPPORTED}`, { file: dirName, path: '$' });
  return { packages: dedupePackages(packages), notes, type: 'directory', files: used };
}
