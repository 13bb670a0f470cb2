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

// ---- Maven's own ComparableVersionTest.java ----------------------------------------------------------
// The vectors are read out of the unmodified JUnit source: its String arrays and String /
// ComparableVersion variables, its checkVersionsOrder / checkVersionsEqual / checkVersionsHaveSameOrder /
// checkVersionsArrayEqual calls, `assertTrue(x.compareTo(y) < 0 …)` assertions and the one
// `for (String x : new String[] {…})` loop, expanded. Each becomes one `A OP B` line (line = the call's line).

/** Evaluate a Java string expression of literals and variables joined by `+`. */
function javaString(expr: string, vars: Map<string, string>): string | null {
  const parts = expr.trim().split(/\s*\+\s*(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  let out = '';
  for (const p of parts) {
    if (/^"(?:[^"\\]|\\.)*"$/.test(p)) out += JSON.parse(p) as string;
    else if (vars.has(p)) out += vars.get(p)!;
    else return null;
  }
  return out;
}

function javaStringList(body: string): string[] {
  return [...body.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => JSON.parse(m[0]) as string);
}

export function readMavenComparableVersionTest(rel: string): VectorLine[] {
  const text = readFileSync(path.join(VERSIONS_DIR, rel), 'utf8');
  const lines = text.split('\n');
  const vars = new Map<string, string>();
  const arrays = new Map<string, string[]>();
  const out: VectorLine[] = [];
  const push = (line: number, a: string, op: VectorLine['op'], b: string) => out.push({ file: rel, line, a, op, b });
  const pairs = (line: number, xs: string[], op: VectorLine['op']) => {
    for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) push(line, xs[i], op, xs[j]);
  };
  // Whole-file array declarations first (class constants are used before they appear in methods).
  for (const m of text.matchAll(/String\[\]\s+(\w+)\s*=\s*(?:new String\[\]\s*)?\{([^}]*)\}/g)) arrays.set(m[1], javaStringList(m[2]));
  let loop: { name: string; values: string[]; body: string[]; startLine: number } | null = null;
  let depth = 0;
  // The helpers (checkVersionsOrder and friends) come before the first @Test; only test bodies count.
  const firstTest = lines.findIndex((l) => l.trim() === '@Test');
  const handle = (stmt: string, lineNo: number, local: Map<string, string>) => {
    let m: RegExpExecArray | null;
    if ((m = /^\s*(?:String|ComparableVersion)\s+(\w+)\s*=\s*(?:new ComparableVersion\()?\s*("(?:[^"\\]|\\.)*")\s*\)?;/.exec(stmt))) {
      local.set(m[1], JSON.parse(m[2]) as string);
      return;
    }
    if ((m = /checkVersions(Order|Equal|HaveSameOrder|ArrayEqual)\((.*)\);/.exec(stmt))) {
      const kind = m[1];
      const args = m[2].split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((s) => s.trim());
      if (args.length === 1) {
        const arr = arrays.get(args[0]);
        if (!arr) throw new Error(`${rel}:${lineNo}: unknown array ${args[0]}`);
        pairs(lineNo, arr, kind === 'Order' ? '<' : '=');
        return;
      }
      const a = javaString(args[0], local);
      const b = javaString(args[1], local);
      if (a === null || b === null) throw new Error(`${rel}:${lineNo}: cannot evaluate ${stmt.trim()}`);
      push(lineNo, a, kind === 'Order' ? '<' : '=', b);
      return;
    }
    if ((m = /assertTrue\(\s*(\w+)\.compareTo\((\w+)\)\s*(<|>|==)\s*0/.exec(stmt))) {
      const a = local.get(m[1]);
      const b = local.get(m[2]);
      if (a === undefined || b === undefined) throw new Error(`${rel}:${lineNo}: unknown variable in ${stmt.trim()}`);
      push(lineNo, a, m[3] === '==' ? '=' : (m[3] as '<' | '>'), b);
    }
  };
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (i < firstTest) return;
    if (loop) {
      depth += (raw.match(/\{/g) ?? []).length - (raw.match(/\}/g) ?? []).length;
      if (depth <= 0) {
        for (const v of loop.values) {
          const local = new Map(vars);
          local.set(loop.name, v);
          loop.body.forEach((s, k) => handle(s, loop!.startLine + 1 + k, local));
        }
        loop = null;
      } else loop.body.push(raw);
      return;
    }
    const f = /for \(String (\w+) : new String\[\] \{([^}]*)\}\) \{/.exec(raw);
    if (f) {
      loop = { name: f[1], values: javaStringList(f[2]), body: [], startLine: lineNo };
      depth = 1;
      return;
    }
    if (/String\[\]/.test(raw)) return;
    handle(raw, lineNo, vars);
  });
  return out;
}

// ---- claims read out of the ecosystems' own test sources ----------------------------------------------
// A claim is "cmp(a, b) relates to 0 this way" (`<`, `<=`, `=`, `!=`, `>=`, `>`), or its negation
// where the upstream test asserts a predicate is false.

export type Relation = '<' | '<=' | '=' | '!=' | '>=' | '>';

export interface Claim {
  file: string;
  line: number;
  a: string;
  b: string;
  rel: Relation;
  /** false: upstream asserts the relation does NOT hold. */
  holds: boolean;
}

export function claimHolds(c: Claim, cmp: (a: string, b: string) => number): boolean {
  const s = Math.sign(cmp(c.a, c.b));
  const r = -Math.sign(cmp(c.b, c.a));
  if (s !== r) return false; // antisymmetry broken
  const ok = { '<': s < 0, '<=': s <= 0, '=': s === 0, '!=': s !== 0, '>=': s >= 0, '>': s > 0 }[c.rel];
  return ok === c.holds;
}

export function claimsOfVectors(lines: VectorLine[]): Claim[] {
  return lines.map((l) => ({ file: l.file, line: l.line, a: l.a, b: l.b, rel: l.op, holds: true }));
}

const lit = /"((?:[^"\\]|\\.)*)"/;
const unquote = (s: string) => JSON.parse(`"${s}"`) as string;

/** RubyGems' test/rubygems/test_gem_version.rb: `assert_equal(N, v("a") <=> v("b"))`, assert_less_than, assert/refute_version_equal. */
export function readRubyGemsVersionTest(rel: string): Claim[] {
  const out: Claim[] = [];
  readFileSync(path.join(VERSIONS_DIR, rel), 'utf8').split('\n').forEach((raw, i) => {
    const line = i + 1;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`assert_equal\\(\\s*(-?\\d),\\s*v\\(${lit.source}\\)\\s*<=>\\s*(?:v\\()?${lit.source}\\)?\\s*\\)`).exec(raw))) {
      const rel_ = ({ '-1': '<', '0': '=', '1': '>' } as const)[m[1] as '-1' | '0' | '1'];
      out.push({ file: rel, line, a: unquote(m[2]), b: unquote(m[3]), rel: rel_, holds: true });
    } else if ((m = new RegExp(`^\\s*(assert_less_than|assert_version_equal|refute_version_equal)\\s+${lit.source},\\s*${lit.source}\\s*$`).exec(raw))) {
      const kind = m[1];
      out.push({ file: rel, line, a: unquote(m[2]), b: unquote(m[3]), rel: kind === 'assert_less_than' ? '<' : '=', holds: kind !== 'refute_version_equal' });
    }
  });
  return out;
}

/** NuGet.Client's VersionComparerTests.cs: [InlineData("a", "b")] rows of the Default-comparer theories. */
export function readNuGetVersionComparerTests(rel: string): Claim[] {
  const out: Claim[] = [];
  let rows: Array<[number, string, string]> = [];
  const REL: Record<string, Relation> = {
    VersionComparisonDefaultEqual: '=',
    VersionComparisonDefaultEqualWithNuGetVersion: '=',
    VersionComparisonDefaultNotEqual: '!=',
    VersionComparisonDefaultNotEqualWithNuGetVersion: '!=',
    VersionComparisonDefaultLess: '<',
  };
  readFileSync(path.join(VERSIONS_DIR, rel), 'utf8').split('\n').forEach((raw, i) => {
    const row = new RegExp(`\\[InlineData\\(${lit.source},\\s*${lit.source}\\)\\]`).exec(raw);
    if (row) rows.push([i + 1, unquote(row[1]), unquote(row[2])]);
    const method = /public void (\w+)\(/.exec(raw);
    if (method) {
      const r = REL[method[1]];
      if (r) for (const [line, a, b] of rows) out.push({ file: rel, line, a, b, rel: r, holds: true });
      rows = [];
    }
  });
  return out;
}

/** composer/semver's tests/ComparatorTest.php: the data providers of greaterThan … compare. */
export function readComposerComparatorTest(rel: string): Claim[] {
  const out: Claim[] = [];
  const PROVIDER: Record<string, Relation> = {
    greaterThanProvider: '>',
    greaterThanOrEqualToProvider: '>=',
    lessThanProvider: '<',
    lessThanOrEqualToProvider: '<=',
    equalToProvider: '=',
    notEqualToProvider: '!=',
  };
  const OPS: Record<string, Relation> = { '>': '>', '>=': '>=', '<': '<', '<=': '<=', '==': '=', '=': '=', '!=': '!=', '<>': '!=' };
  let provider = '';
  readFileSync(path.join(VERSIONS_DIR, rel), 'utf8').split('\n').forEach((raw, i) => {
    const fn = /public (?:static )?function (\w+Provider)\(/.exec(raw);
    if (fn) provider = fn[1];
    const q = "'((?:[^'\\\\]|\\\\.)*)'";
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`array\\(${q},\\s*${q},\\s*(true|false)\\)`).exec(raw)) && PROVIDER[provider]) {
      out.push({ file: rel, line: i + 1, a: m[1], b: m[2], rel: PROVIDER[provider], holds: m[3] === 'true' });
    } else if ((m = new RegExp(`array\\(${q},\\s*${q},\\s*${q},\\s*(true|false)\\)`).exec(raw)) && provider === 'compareProvider') {
      out.push({ file: rel, line: i + 1, a: m[1], b: m[3], rel: OPS[m[2]], holds: m[4] === 'true' });
    }
  });
  return out;
}
