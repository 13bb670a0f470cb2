// Cargo.lock (v1–v4): `[[package]]` tables from a registry. Packages without `source` are the
// workspace's own crates (the project), not dependencies.
import { purlFor } from '../purl.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, textOf, type InputFile, type ParsedInput } from './common.js';
import { parseTomlTables } from './toml-lite.js';

export function parseCargoLock(file: InputFile): ParsedInput {
  const tables = parseTomlTables(textOf(file), file.name).filter((t) => t.header === 'package' && t.arrayOfTables);
  const pkgs: Array<ScanPackage & { deps: string[] }> = [];
  let local = 0;
  for (const t of tables) {
    const { name, version, source, dependencies } = t.values;
    if (typeof name !== 'string' || !name) throw badInput('[[package]] without a string `name`', file.name, t.line);
    if (typeof version !== 'string' || !version) throw badInput(`[[package]] ${name} without a string \`version\``, file.name, t.line);
    if (typeof source !== 'string') {
      local++;
      continue;
    }
    if (!source.startsWith('registry+') && !source.startsWith('sparse+')) {
      local++;
      continue;
    }
    const deps = Array.isArray(dependencies) ? dependencies.filter((d): d is string => typeof d === 'string') : [];
    pkgs.push({ ecosystem: 'crates.io', name, version, purl: purlFor('crates.io', name, version), location: `${file.name}:${t.line}`, deps });
  }
  // A dependency is "name" (unique) or "name version" (several versions locked).
  const byName = new Map<string, string[]>();
  for (const p of pkgs) byName.set(p.name, [...(byName.get(p.name) ?? []), p.version]);
  const out: ScanPackage[] = pkgs.map(({ deps, ...p }) => {
    const to: string[] = [];
    for (const d of deps) {
      const [dn, dv] = d.split(' ');
      const versions = byName.get(dn) ?? [];
      const v = dv ?? (versions.length === 1 ? versions[0] : undefined);
      if (v && versions.includes(v)) to.push(purlFor('crates.io', dn, v));
    }
    return to.length ? { ...p, dependsOn: to } : p;
  });
  const notes = local ? [`${file.name}: ${local} workspace/path/git crate(s) are not registry packages and were not scanned`] : [];
  return { packages: dedupePackages(out), notes };
}
