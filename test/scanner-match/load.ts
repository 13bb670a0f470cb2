// Test-side loaders: the real OSV records in fixtures/third_party/osv/ as OsvRecordEntry[], and the
// packages of the real SBOMs/lockfiles, read with small independent extractors (so these tests do not
// depend on the input-parser module being finished).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import YAML from 'yaml';
import { THIRD_PARTY } from '../helpers/cli.js';
import type { OsvRecord, OsvRecordEntry, ScanPackage } from '../../src/scanner/types.js';
import { ecosystemOfPurl, parsePurl, purlFor } from '../../src/scanner/purl.js';

export const OSV_DIR = path.join(THIRD_PARTY, 'osv');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** An OSV record file as an entry; YAML (PyPI) is read with the failsafe schema so `0.10` stays a string. */
export function loadRecordFile(file: string): OsvRecordEntry {
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  const record = (file.endsWith('.yaml') ? YAML.parse(text, { schema: 'failsafe' }) : JSON.parse(text)) as OsvRecord;
  return {
    path: path.relative(THIRD_PARTY, file).split(path.sep).join('/'),
    sha256: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    record,
  };
}

let cache: OsvRecordEntry[] | null = null;
/** Every Go, PyPI and GHSA record (not the schema or the deliberately broken linter cases). */
export function loadAllOsv(): OsvRecordEntry[] {
  if (cache) return cache;
  const files = ['go', 'pypi', 'ghsa'].flatMap((d) => walk(path.join(OSV_DIR, d))).filter((f) => /\.(json|yaml)$/.test(f));
  cache = files.map(loadRecordFile);
  return cache;
}

export function record(id: string): OsvRecordEntry {
  const hit = loadAllOsv().find((e) => e.record.id === id);
  if (!hit) throw new Error(`no OSV record ${id} in fixtures`);
  return hit;
}

export function pkg(ecosystem: string, name: string, version: string, location = 'test'): ScanPackage {
  return { ecosystem, name, version, purl: purlFor(ecosystem, name, version), location };
}

function fromPurl(purl: string, location: string): ScanPackage | null {
  let p;
  try {
    p = parsePurl(purl);
  } catch {
    return null;
  }
  const eco = ecosystemOfPurl(p);
  if (!eco || !p.version) return null;
  return pkg(eco.ecosystem, eco.name, p.version, location);
}

type Obj = Record<string, unknown>;

/** Packages of a CycloneDX (nested components) or SPDX (externalRefs purl) SBOM. */
export function sbomPackages(rel: string): ScanPackage[] {
  const doc = JSON.parse(readFileSync(path.join(THIRD_PARTY, rel), 'utf8')) as Obj;
  const out: ScanPackage[] = [];
  const visit = (components: unknown, where: string) => {
    if (!Array.isArray(components)) return;
    components.forEach((c: Obj, i) => {
      if (typeof c.purl === 'string') {
        const p = fromPurl(c.purl, `${rel}#${where}/${i}`);
        if (p) out.push(p);
      }
      visit(c.components, `${where}/${i}/components`);
    });
  };
  visit(doc.components, '/components');
  if (Array.isArray(doc.packages)) {
    (doc.packages as Obj[]).forEach((p, i) => {
      for (const ref of (p.externalRefs as Obj[] | undefined) ?? []) {
        if (ref.referenceType === 'purl' && typeof ref.referenceLocator === 'string') {
          const sp = fromPurl(ref.referenceLocator, `${rel}#/packages/${i}`);
          if (sp) out.push(sp);
        }
      }
    });
  }
  return out;
}

/** Packages of the real lockfiles: package-lock v2/v3, Cargo.lock, pinned requirements.txt, go.mod. */
export function lockfilePackages(rel: string): ScanPackage[] {
  const text = readFileSync(path.join(THIRD_PARTY, rel), 'utf8');
  const base = path.basename(rel);
  if (base === 'package-lock.json') {
    const doc = JSON.parse(text) as { packages: Record<string, { version?: string; link?: boolean; name?: string }> };
    return Object.entries(doc.packages)
      .filter(([k, v]) => k.includes('node_modules/') && v.version && !v.link)
      .map(([k, v]) => pkg('npm', v.name ?? k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length), v.version!, rel));
  }
  if (base === 'Cargo.lock') {
    return [...text.matchAll(/\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"/g)].map((m) => pkg('crates.io', m[1], m[2], rel));
  }
  if (base === 'requirements.txt') {
    return [...text.matchAll(/^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)/gm)].map((m) => pkg('PyPI', m[1], m[2], rel));
  }
  if (base === 'poetry.lock') {
    return [...text.matchAll(/\[\[package\]\]\n(?:[^\n]*\n)*?name = "([^"]+)"\n(?:[^\n]*\n)*?version = "([^"]+)"/g)].map((m) => pkg('PyPI', m[1], m[2], rel));
  }
  if (base === 'go.mod') {
    return [...text.matchAll(/^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]+\/[^\s]+)\s+(v[^\s]+)/gm)].map((m) => pkg('Go', m[1], m[2], rel));
  }
  throw new Error(`no extractor for ${rel}`);
}
