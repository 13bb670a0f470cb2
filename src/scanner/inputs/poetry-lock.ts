// poetry.lock: every `[[package]]` table's name and version. A name may appear twice with different
// versions (environment markers select one per platform); both are scanned.
import { purlFor } from '../purl.js';
import type { ScanPackage } from '../types.js';
import { badInput, dedupePackages, textOf, type InputFile, type ParsedInput } from './common.js';
import { parseTomlTables } from './toml-lite.js';

export function parsePoetryLock(file: InputFile): ParsedInput {
  const tables = parseTomlTables(textOf(file), file.name);
  const pkgs: ScanPackage[] = [];
  for (const t of tables) {
    if (t.header !== 'package' || !t.arrayOfTables) continue;
    const { name, version } = t.values;
    if (typeof name !== 'string' || !name) throw badInput('[[package]] without a string `name`', file.name, t.line);
    if (typeof version !== 'string' || !version) throw badInput(`[[package]] ${name} without a string \`version\``, file.name, t.line);
    pkgs.push({ ecosystem: 'PyPI', name, version, purl: purlFor('PyPI', name, version), location: `${file.name}:${t.line}` });
  }
  return { packages: dedupePackages(pkgs), notes: [] };
}
