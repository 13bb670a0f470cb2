// SPDX 2.2/2.3 JSON: packages that carry a purl external reference, and DEPENDS_ON relationships.
import { jsonPath } from '../../core/errors.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, isObject, jsonOf, packageOfPurl, type InputFile, type ParsedInput } from './common.js';

export function isSpdx(doc: unknown): boolean {
  return isObject(doc) && typeof doc.spdxVersion === 'string';
}

export function parseSpdx(file: InputFile, doc: unknown = jsonOf(file)): ParsedInput {
  if (!isSpdx(doc)) throw badInput('not an SPDX JSON document (no spdxVersion)', file.name, '$.spdxVersion');
  const d = doc as Record<string, unknown>;
  if (!/^SPDX-2\.[0-3]$/.test(d.spdxVersion as string)) {
    throw badInput(`unsupported spdxVersion ${JSON.stringify(d.spdxVersion)} (SPDX-2.2 and SPDX-2.3 are read)`, file.name, '$.spdxVersion');
  }
  const list = d.packages ?? [];
  if (!Array.isArray(list)) throw badInput('expected an array of packages', file.name, '$.packages');
  const bySpdxId = new Map<string, ScanPackage>();
  const pkgs: ScanPackage[] = [];
  let skipped = 0;
  list.forEach((p, i) => {
    if (!isObject(p)) throw badInput('expected a package object', file.name, jsonPath(['packages', i]));
    const refs = p.externalRefs ?? [];
    if (!Array.isArray(refs)) throw badInput('expected an array', file.name, jsonPath(['packages', i, 'externalRefs']));
    const purlRef = refs.find((r) => isObject(r) && r.referenceType === 'purl' && typeof r.referenceLocator === 'string') as
      | { referenceLocator: string }
      | undefined;
    const fallback = typeof p.versionInfo === 'string' ? p.versionInfo : null;
    const where = jsonPath(['packages', i, 'externalRefs']);
    const eco = purlRef ? packageOfPurl(purlRef.referenceLocator, fallback, file.name, where) : null;
    // "(devel)" is Go's placeholder for the main module built from source: nothing to match.
    if (!eco || eco.version === '(devel)') {
      skipped++;
      return;
    }
    const pkg: ScanPackage = {
      ecosystem: eco.ecosystem,
      name: eco.name,
      version: eco.version,
      purl: purlRef!.referenceLocator,
      location: `${file.name}#${jsonPath(['packages', i])}`,
    };
    pkgs.push(pkg);
    if (typeof p.SPDXID === 'string') bySpdxId.set(p.SPDXID, pkg);
  });
  const rels = d.relationships ?? [];
  if (!Array.isArray(rels)) throw badInput('expected an array', file.name, '$.relationships');
  for (const r of rels) {
    if (!isObject(r)) continue;
    let from: string | undefined;
    let to: string | undefined;
    if (r.relationshipType === 'DEPENDS_ON') [from, to] = [r.spdxElementId as string, r.relatedSpdxElement as string];
    else if (r.relationshipType === 'DEPENDENCY_OF') [from, to] = [r.relatedSpdxElement as string, r.spdxElementId as string];
    const a = from ? bySpdxId.get(from) : undefined;
    const b = to ? bySpdxId.get(to) : undefined;
    if (a && b) a.dependsOn = [...(a.dependsOn ?? []), b.purl];
  }
  const notes = skipped ? [`${file.name}: ${skipped} package(s) without a purl of a known ecosystem were not scanned`] : [];
  return { packages: dedupePackages(pkgs), notes };
}
