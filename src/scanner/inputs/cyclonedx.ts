// CycloneDX JSON (specVersion 1.2–1.6): every component with a purl OSV knows, nested components
// included, and the `dependencies` graph mapped from bom-refs to purls.
import { jsonPath } from '../../core/errors.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, isObject, jsonOf, packageOfPurl, type InputFile, type ParsedInput } from './common.js';

export function isCycloneDx(doc: unknown): boolean {
  return isObject(doc) && doc.bomFormat === 'CycloneDX';
}

export function parseCycloneDx(file: InputFile, doc: unknown = jsonOf(file)): ParsedInput {
  if (!isCycloneDx(doc)) throw badInput('not a CycloneDX document (bomFormat is not "CycloneDX")', file.name, '$.bomFormat');
  const bom = doc as Record<string, unknown>;
  const spec = bom.specVersion;
  if (typeof spec !== 'string' || !/^1\.[0-7]$/.test(spec)) {
    throw badInput(`unsupported CycloneDX specVersion ${JSON.stringify(spec)} (1.2–1.7 are read)`, file.name, '$.specVersion');
  }
  const notes: string[] = [];
  const found: Array<{ pkg: ScanPackage; ref: string | null }> = [];
  let skipped = 0;
  const walk = (list: unknown, segs: Array<string | number>): void => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw badInput('expected an array of components', file.name, jsonPath(segs));
    list.forEach((c, i) => {
      const here = [...segs, i];
      if (!isObject(c)) throw badInput('expected a component object', file.name, jsonPath(here));
      const purlText = c.purl;
      if (purlText !== undefined && typeof purlText !== 'string') throw badInput('purl must be a string', file.name, jsonPath([...here, 'purl']));
      const version = typeof c.version === 'string' ? c.version : null;
      const eco = typeof purlText === 'string' ? packageOfPurl(purlText, version, file.name, jsonPath([...here, 'purl'])) : null;
      if (eco) {
        found.push({
          pkg: { ecosystem: eco.ecosystem, name: eco.name, version: eco.version, purl: purlText as string, location: `${file.name}#${jsonPath(here)}` },
          ref: typeof c['bom-ref'] === 'string' ? c['bom-ref'] : null,
        });
      } else skipped++;
      walk(c.components, [...here, 'components']);
    });
  };
  walk(bom.components, ['components']);
  if (skipped) notes.push(`${file.name}: ${skipped} component(s) without a purl of a known ecosystem were not scanned`);

  const purlByRef = new Map<string, string>();
  for (const f of found) if (f.ref) purlByRef.set(f.ref, f.pkg.purl);
  const deps = bom.dependencies;
  if (deps !== undefined) {
    if (!Array.isArray(deps)) throw badInput('expected an array', file.name, '$.dependencies');
    const byPurl = new Map(found.map((f) => [f.pkg.purl, f.pkg]));
    deps.forEach((d, i) => {
      if (!isObject(d) || typeof d.ref !== 'string') throw badInput('expected {ref, dependsOn}', file.name, jsonPath(['dependencies', i]));
      const from = purlByRef.get(d.ref);
      const pkg = from ? byPurl.get(from) : undefined;
      if (!pkg || d.dependsOn === undefined) return;
      if (!Array.isArray(d.dependsOn)) throw badInput('expected an array of refs', file.name, jsonPath(['dependencies', i, 'dependsOn']));
      const to = d.dependsOn.map((r) => (typeof r === 'string' ? purlByRef.get(r) : undefined)).filter((x): x is string => !!x);
      pkg.dependsOn = [...(pkg.dependsOn ?? []), ...to];
    });
  }
  return { packages: dedupePackages(found.map((f) => f.pkg)), notes };
}
