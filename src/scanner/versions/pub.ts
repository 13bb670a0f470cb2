// Pub (Dart) version order: pub_semver's Version.compareTo. SemVer 2.0.0, except that build metadata
// counts: a version with a build sorts after the same version without one, and builds compare like
// pre-release identifiers (`1.2.3 < 1.2.3+1 < 1.2.3+a`). Identifiers are numbers (numerically, before
// words) or words (by code units). A `v` prefix and missing minor/patch parts (`1.2` = `1.2.0`) are
// accepted as the feeds write them; other strings fall back to the generic order.
import { compareGeneric } from './generic.js';
import { compareDigits, compareStrings } from './util.js';

const PUB = /^\s*[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.+-]+))?\s*$/;

interface PubVersion {
  core: [string, string, string];
  pre: string[];
  build: string[];
}

function parsePub(input: string): PubVersion | null {
  const m = PUB.exec(input);
  if (!m) return null;
  return { core: [m[1], m[2] ?? '0', m[3] ?? '0'], pre: m[4] === undefined ? [] : m[4].split('.'), build: m[5] === undefined ? [] : m[5].split('.') };
}

/** pub_semver's _compareLists: a missing identifier sorts first; numbers before words. */
function compareLists(a: string[], b: string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    const c = xn && yn ? compareDigits(x, y) : xn ? -1 : yn ? 1 : compareStrings(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

export function comparePub(a: string, b: string): number {
  if (a === b) return 0;
  const x = parsePub(a);
  const y = parsePub(b);
  if (!x || !y) return x || y ? (x ? 1 : -1) : compareGeneric(a, b);
  for (let i = 0; i < 3; i++) {
    const c = compareDigits(x.core[i], y.core[i]);
    if (c !== 0) return c;
  }
  // A pre-release sorts before the release; a build after the version without one.
  if (x.pre.length === 0 !== (y.pre.length === 0)) return x.pre.length === 0 ? 1 : -1;
  const p = compareLists(x.pre, y.pre);
  if (p !== 0) return p;
  if (x.build.length === 0 !== (y.build.length === 0)) return x.build.length === 0 ? -1 : 1;
  return compareLists(x.build, y.build);
}
