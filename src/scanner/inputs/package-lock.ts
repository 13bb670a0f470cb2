// package-lock.json / npm-shrinkwrap.json v2 and v3: the `packages` map keyed by install path.
// `node_modules/a/node_modules/@s/b` installs `@s/b`; the root ("") and workspace links are the
// project itself, not dependencies.
import { jsonPath } from '../../core/errors.js';
import { purlFor } from '../purl.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, isObject, jsonOf, needString, type InputFile, type ParsedInput } from './common.js';

const NM = 'node_modules/';

export function isPackageLock(doc: unknown): boolean {
  return isObject(doc) && typeof doc.lockfileVersion === 'number' && ('packages' in doc || 'dependencies' in doc);
}

/** Package name installed at a `node_modules/…` path: everything after the last `node_modules/`. */
export function nameFromInstallPath(key: string): string | null {
  const i = key.lastIndexOf(NM);
  if (i < 0) return null;
  const name = key.slice(i + NM.length);
  return name.length ? name : null;
}

/** Node's resolution: the nearest `node_modules/<dep>` at or above the dependent's install path. */
function resolveDep(from: string, dep: string, has: (k: string) => boolean): string | null {
  let base = from;
  for (;;) {
    const k = base ? `${base}/${NM}${dep}` : `${NM}${dep}`;
    if (has(k)) return k;
    if (!base) return null;
    const i = base.lastIndexOf(NM);
    base = i <= 0 ? '' : base.slice(0, i - 1);
  }
}

export function parsePackageLock(file: InputFile, doc: unknown = jsonOf(file)): ParsedInput {
  if (!isObject(doc)) throw badInput('expected a package-lock.json object', file.name, '$');
  const v = doc.lockfileVersion;
  if (v !== 2 && v !== 3) {
    throw badInput(`lockfileVersion ${JSON.stringify(v)} is not supported (v2 and v3 are; run npm install with npm ≥ 7 to upgrade)`, file.name, '$.lockfileVersion');
  }
  const map = doc.packages;
  if (!isObject(map)) throw badInput('expected the "packages" map of a v2/v3 lockfile', file.name, '$.packages');
  const notes: string[] = [];
  const byKey = new Map<string, ScanPackage>();
  const edges: Array<[string, string[]]> = [];
  let links = 0;
  for (const key of Object.keys(map)) {
    const entry = map[key];
    if (!isObject(entry)) throw badInput('expected a package entry object', file.name, jsonPath(['packages', key]));
    if (key === '') continue;
    if (entry.link === true) {
      links++;
      continue;
    }
    const installed = nameFromInstallPath(key);
    // Paths outside node_modules are workspace sources (the project itself).
    if (!installed) continue;
    const name = typeof entry.name === 'string' && entry.name ? entry.name : installed;
    const version = needString(entry.version, file.name, ['packages', key, 'version']);
    const pkg: ScanPackage = { ecosystem: 'npm', name, version, purl: purlFor('npm', name, version), location: `${file.name}#${jsonPath(['packages', key])}` };
    byKey.set(key, pkg);
    const deps = [entry.dependencies, entry.optionalDependencies, entry.peerDependencies]
      .filter(isObject)
      .flatMap((o) => Object.keys(o));
    if (deps.length) edges.push([key, deps]);
  }
  for (const [key, deps] of edges) {
    const to = deps.map((d) => resolveDep(key, d, (k) => byKey.has(k))).filter((k): k is string => k !== null).map((k) => byKey.get(k)!.purl);
    if (to.length) byKey.get(key)!.dependsOn = to;
  }
  if (links) notes.push(`${file.name}: ${links} workspace link(s) are the project itself and were not scanned`);
  return { packages: dedupePackages([...byKey.values()]), notes };
}
