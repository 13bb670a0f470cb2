// PEP 440 version order for PyPI (https://peps.python.org/pep-0440/), following the reference
// implementation in `packaging.version`:
//   epoch `N!`, release `1.0` == `1.0.0` (trailing zeros do not count), pre-releases `a|b|rc` with the
//   spellings `alpha|beta|c|pre|preview`, post-releases `.postN` / `-N` / `rev` / `r`, dev releases
//   `.devN`, local versions `+ubuntu.1`. Order within one release:
//   1.0.dev0 < 1.0a1.dev0 < 1.0a1 < 1.0a1.post0.dev0 < 1.0a1.post0 < 1.0 < 1.0.post0.dev0 < 1.0.post0
//   and a local version sorts after the same public version.
// Strings that are not PEP 440 versions (legacy) sort before every valid version, as pip once did.
import { compareGeneric } from './generic.js';
import { compareDigits, compareStrings } from './util.js';

export interface Pep440 {
  epoch: string;
  /** Release segments with trailing zeros removed (so `1.0` and `1.0.0` compare equal). */
  release: string[];
  pre: { kind: 'a' | 'b' | 'rc'; n: string } | null;
  post: string | null;
  dev: string | null;
  local: string[];
}

// The regex of packaging.version.VERSION_PATTERN, case-insensitive.
const PATTERN = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_\\.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\\.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_\\.]?(?<post_l>post|rev|r)[-_\\.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_\\.]?(?<dev_l>dev)[-_\\.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_\\.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

function preKind(label: string): 'a' | 'b' | 'rc' {
  switch (label.toLowerCase()) {
    case 'a':
    case 'alpha':
      return 'a';
    case 'b':
    case 'beta':
      return 'b';
    default:
      // c, rc, pre, preview all mean release candidate.
      return 'rc';
  }
}

export function parsePep440(input: string): Pep440 | null {
  const m = PATTERN.exec(input);
  if (!m || !m.groups) return null;
  const g = m.groups;
  const release = g.release.split('.');
  while (release.length > 1 && /^0+$/.test(release[release.length - 1])) release.pop();
  let post: string | null = null;
  if (g.post !== undefined) post = g.post_n1 ?? g.post_n2 ?? '0';
  return {
    epoch: g.epoch ?? '0',
    release,
    pre: g.pre !== undefined ? { kind: preKind(g.pre_l), n: g.pre_n ?? '0' } : null,
    post,
    dev: g.dev !== undefined ? (g.dev_n ?? '0') : null,
    local: g.local !== undefined ? g.local.toLowerCase().split(/[-_.]/) : [],
  };
}

const PRE_RANK = { a: 0, b: 1, rc: 2 } as const;

// packaging's _cmpkey uses ±Infinity sentinels; here each optional part gets a "phase" number first.
function prePhase(v: Pep440): number {
  // A bare dev release (1.0.dev0) sorts before every pre-release of the same release.
  if (v.pre === null && v.post === null && v.dev !== null) return -1;
  if (v.pre === null) return 3; // a final (or post) release sorts after its pre-releases
  return PRE_RANK[v.pre.kind];
}

function compareRelease(a: string[], b: string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(a[i] ?? '0', b[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

function compareLocal(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    let c: number;
    if (xn && yn) c = compareDigits(x, y);
    // Numeric local segments sort after alphanumeric ones.
    else if (xn !== yn) c = xn ? 1 : -1;
    else c = compareStrings(x, y);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareParsedPep440(a: Pep440, b: Pep440): number {
  let c = compareDigits(a.epoch, b.epoch);
  if (c !== 0) return c;
  c = compareRelease(a.release, b.release);
  if (c !== 0) return c;
  c = prePhase(a) - prePhase(b);
  if (c !== 0) return Math.sign(c);
  if (a.pre && b.pre) {
    c = compareDigits(a.pre.n, b.pre.n);
    if (c !== 0) return c;
  }
  // No post-release sorts before any post-release.
  if (a.post !== b.post) {
    if (a.post === null || b.post === null) return a.post === null ? -1 : 1;
    c = compareDigits(a.post, b.post);
    if (c !== 0) return c;
  }
  // No dev-release sorts after any dev-release.
  if (a.dev !== b.dev) {
    if (a.dev === null || b.dev === null) return a.dev === null ? 1 : -1;
    c = compareDigits(a.dev, b.dev);
    if (c !== 0) return c;
  }
  return compareLocal(a.local, b.local);
}

export function comparePep440(a: string, b: string): number {
  if (a === b) return 0;
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (x && y) return compareParsedPep440(x, y);
  if (x || y) return x ? 1 : -1;
  return compareGeneric(a, b);
}

/** The PEP 440 normal form (`1.0A1` → `1.0a1`, `1.0-1` → `1.0.post1`); null when not a valid version. */
export function normalizePep440(input: string): string | null {
  const v = parsePep440(input);
  if (!v) return null;
  const m = PATTERN.exec(input)!.groups!;
  let out = v.epoch !== '0' ? `${BigInt(v.epoch)}!` : '';
  out += m.release.split('.').map((s) => BigInt(s).toString()).join('.');
  if (v.pre) out += `${v.pre.kind}${BigInt(v.pre.n)}`;
  if (v.post !== null) out += `.post${BigInt(v.post)}`;
  if (v.dev !== null) out += `.dev${BigInt(v.dev)}`;
  if (v.local.length) out += `+${v.local.join('.')}`;
  return out;
}
