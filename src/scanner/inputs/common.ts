// Shared pieces of the input parsers: purl parsing, purl type → OSV ecosystem, error places and a
// stable package order. Parsers are pure: bytes in, ScanPackage[] out.
import { StellaError, isStellaError, jsonPath } from '../../core/errors.js';
import { ecosystemOfPurl, parsePurl, type Purl } from '../purl.js';
import { compareCodeUnits } from '../../core/canonical/index.js';
import { decodeUtf8, parseJsonBytes } from '../../core/json/parse.js';
import type { ScanPackage } from '../types.js';

/** One input file as the parser sees it: the name the user gave (for messages) and its bytes. */
export interface InputFile {
  name: string;
  bytes: Uint8Array;
}

/** What a parser returns: packages plus notes about things it deliberately ignored. */
export interface ParsedInput {
  packages: ScanPackage[];
  notes: string[];
}

/** OS package types purl.ts does not map: OSV names their ecosystems after the distribution. */
const OS_ECOSYSTEMS: Readonly<Record<string, string>> = { deb: 'Debian', apk: 'Alpine', alpine: 'Alpine', rpm: 'Red Hat' };

/**
 * OSV ecosystem, name and version of a purl; null when it names no ecosystem OSV covers. A malformed
 * purl is an error at the given place.
 */
export function packageOfPurl(
  purl: string,
  fallbackVersion: string | null,
  file: string,
  where: string,
): { ecosystem: string; name: string; version: string } | null {
  let p: Purl;
  try {
    p = parsePurl(purl);
  } catch (e) {
    throw badInput(isStellaError(e) ? e.message : String(e), file, where);
  }
  const version = p.version ?? fallbackVersion;
  if (!version) return null;
  const known = ecosystemOfPurl(p);
  if (known) return { ...known, version };
  const os = OS_ECOSYSTEMS[p.type];
  return os ? { ecosystem: os, name: p.name, version } : null;
}

export function badInput(message: string, file: string, path: string | number = '$'): StellaError {
  const place = typeof path === 'number' ? `line ${path}` : path;
  return new StellaError('INPUT_UNSUPPORTED', message, { file, path: place });
}

export function jsonOf(file: InputFile): unknown {
  return parseJsonBytes(file.bytes, file.name);
}

export function textOf(file: InputFile): string {
  return decodeUtf8(file.bytes, file.name);
}

export { isObject } from '../../core/guards.js';

/** Require a string at a JSON path, naming the path when it is missing or of another type. */
export function needString(v: unknown, file: string, segs: Array<string | number>): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new StellaError('SCHEMA_INVALID', `expected a non-empty string, found ${describe(v)}`, { file, path: jsonPath(segs) });
  }
  return v;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

/** Total order on packages: (purl, location) — the purl carries ecosystem, name and version. */
export function comparePackages(a: ScanPackage, b: ScanPackage): number {
  return compareCodeUnits(a.purl, b.purl) || compareCodeUnits(a.location, b.location);
}

/**
 * One entry per purl (the first location in sorted order wins; dependency edges are merged), sorted.
 * Duplicates are normal: the same package@version appears under several node_modules paths.
 */
export function dedupePackages(pkgs: ScanPackage[]): ScanPackage[] {
  const sorted = [...pkgs].sort(comparePackages);
  const out: ScanPackage[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && last.purl === p.purl) {
      if (p.dependsOn?.length) last.dependsOn = uniqSorted([...(last.dependsOn ?? []), ...p.dependsOn]);
      continue;
    }
    out.push({ ...p, ...(p.dependsOn ? { dependsOn: uniqSorted(p.dependsOn) } : {}) });
  }
  return out;
}

export function uniqSorted(xs: string[]): string[] {
  return [...new Set(xs)].sort(compareCodeUnits);
}
