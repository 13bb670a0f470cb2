// One entry point for version order: `compareVersions(ecosystem, a, b)` picks the scheme the OSV
// ecosystem uses. Ecosystem names are the OSV ones, compared exactly.
import { compareGeneric } from './generic.js';
import { compareGo } from './go.js';
import { compareMaven } from './maven.js';
import { comparePep440 } from './pep440.js';
import { compareSemver } from './semver.js';

export { compareGeneric } from './generic.js';
export { compareGo, isPseudoVersion, parseGoVersion } from './go.js';
export { compareMaven, parseMaven } from './maven.js';
export { comparePep440, normalizePep440, parsePep440, type Pep440 } from './pep440.js';
export { compareSemver, parseSemver, comparePrerelease, type SemVer } from './semver.js';

export type VersionScheme = 'semver' | 'go' | 'pep440' | 'maven' | 'generic';
export type Comparator = (a: string, b: string) => number;

export function schemeFor(ecosystem: string): VersionScheme {
  switch (ecosystem) {
    case 'npm':
    case 'crates.io':
      return 'semver';
    case 'Go':
      return 'go';
    case 'PyPI':
      return 'pep440';
    case 'Maven':
      return 'maven';
    default:
      return 'generic';
  }
}

const COMPARATORS: Record<VersionScheme, Comparator> = {
  semver: compareSemver,
  go: compareGo,
  pep440: comparePep440,
  maven: compareMaven,
  generic: compareGeneric,
};

export function comparatorFor(ecosystem: string): Comparator {
  return COMPARATORS[schemeFor(ecosystem)];
}

/** Negative, zero or positive as version a sorts before, equal to, or after b in the ecosystem's order. */
export function compareVersions(ecosystem: string, a: string, b: string): number {
  return comparatorFor(ecosystem)(a, b);
}
