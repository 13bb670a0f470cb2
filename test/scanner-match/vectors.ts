// The comparison-line fixtures of fixtures/third_party/versions/: `A OP B` per line (OP one of < = >),
// blank lines and lines starting with `# ` or `// ` skipped — the format of osv-scalibr's
// semantic/testdata, which the other suites here were converted to only where upstream ships the same form.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { THIRD_PARTY } from '../helpers/cli.js';

export const VERSIONS_DIR = path.join(THIRD_PARTY, 'versions');

export interface VectorLine {
  file: string;
  line: number;
  a: string;
  op: '<' | '=' | '>';
  b: string;
}

export function readVectorFile(rel: string): VectorLine[] {
  const text = readFileSync(path.join(VERSIONS_DIR, rel), 'utf8');
  const out: VectorLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('# ') || line.startsWith('// ')) return;
    const parts = line.split(' ');
    if (parts.length !== 3 || !['<', '=', '>'].includes(parts[1])) throw new Error(`${rel}:${i + 1}: not "A OP B": ${JSON.stringify(line)}`);
    out.push({ file: rel, line: i + 1, a: parts[0], op: parts[1] as VectorLine['op'], b: parts[2] });
  });
  return out;
}

const SIGN = { '<': -1, '=': 0, '>': 1 } as const;

/** Lines where cmp disagrees with the expected order, checked in both directions (a OP b and b OP⁻¹ a). */
export function failures(lines: VectorLine[], cmp: (a: string, b: string) => number): VectorLine[] {
  return lines.filter((l) => Math.sign(cmp(l.a, l.b)) !== SIGN[l.op] || Math.sign(cmp(l.b, l.a)) !== -SIGN[l.op]);
}

/** osv-scalibr's semantic/compare_test.go pairing of fixture files with OSV ecosystems. */
export const SCALIBR_SUITE: Array<{ ecosystem: string; file: string }> = [
  { ecosystem: 'npm', file: 'semver-versions.txt' },
  { ecosystem: 'crates.io', file: 'semver-versions.txt' },
  { ecosystem: 'RubyGems', file: 'rubygems-versions.txt' },
  { ecosystem: 'RubyGems', file: 'rubygems-versions-generated.txt' },
  { ecosystem: 'NuGet', file: 'nuget-versions.txt' },
  { ecosystem: 'Packagist', file: 'packagist-versions.txt' },
  { ecosystem: 'Packagist', file: 'packagist-versions-generated.txt' },
  { ecosystem: 'Go', file: 'semver-versions.txt' },
  { ecosystem: 'Hex', file: 'semver-versions.txt' },
  { ecosystem: 'Maven', file: 'maven-versions.txt' },
  { ecosystem: 'Maven', file: 'maven-versions-generated.txt' },
  { ecosystem: 'PyPI', file: 'pypi-versions.txt' },
  { ecosystem: 'PyPI', file: 'pypi-versions-generated.txt' },
  { ecosystem: 'Debian', file: 'debian-versions.txt' },
  { ecosystem: 'Debian', file: 'debian-versions-generated.txt' },
  { ecosystem: 'CRAN', file: 'cran-versions.txt' },
  { ecosystem: 'CRAN', file: 'cran-versions-generated.txt' },
  { ecosystem: 'Alpine', file: 'alpine-versions.txt' },
  { ecosystem: 'Alpine', file: 'alpine-versions-generated.txt' },
  { ecosystem: 'Red Hat', file: 'redhat-versions.txt' },
  { ecosystem: 'Hackage', file: 'hackage-versions.txt' },
  { ecosystem: 'Pub', file: 'pub-versions.txt' },
];
