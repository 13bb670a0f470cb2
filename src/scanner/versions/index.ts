// One entry point for version order: `compareVersions(ecosystem, a, b)` picks the scheme the OSV
// ecosystem uses. The scheme is chosen from the part of the ecosystem before the first `:`, so
// `Debian:12`, `Ubuntu:Pro:22.04:LTS` and `Alpine:v3.19` use their distribution's order.
import { compareApk } from './apk.js';
import { compareComposer } from './composer.js';
import { compareDpkg } from './dpkg.js';
import { compareGeneric } from './generic.js';
import { compareGo } from './go.js';
import { compareMaven } from './maven.js';
import { compareNuGet } from './nuget.js';
import { compareCran, compareHackage } from './numeric-lists.js';
import { comparePep440 } from './pep440.js';
import { comparePub } from './pub.js';
import { compareRpm } from './rpm.js';
import { compareRubyGems } from './rubygems.js';
import { compareSemver } from './semver.js';

export { compareApk } from './apk.js';
export { compareComposer, phpVersionCompare } from './composer.js';
export { compareDpkg, parseDpkg, verrevcmp } from './dpkg.js';
export { compareGeneric } from './generic.js';
export { compareGo, isPseudoVersion, parseGoVersion } from './go.js';
export { compareMaven, parseMaven } from './maven.js';
export { compareNuGet } from './nuget.js';
export { compareCran, compareHackage } from './numeric-lists.js';
export { comparePep440, normalizePep440, parsePep440, type Pep440 } from './pep440.js';
export { comparePub } from './pub.js';
export { compareRpm, parseRpm, rpmvercmp } from './rpm.js';
export { compareRubyGems } from './rubygems.js';
export { compareSemver, parseSemver, comparePrerelease, type SemVer } from './semver.js';

export type VersionScheme =
  | 'semver'
  | 'go'
  | 'pep440'
  | 'maven'
  | 'dpkg'
  | 'apk'
  | 'rpm'
  | 'rubygems'
  | 'composer'
  | 'nuget'
  | 'pub'
  | 'cran'
  | 'hackage'
  | 'generic';
export type Comparator = (a: string, b: string) => number;

/**
 * OSV ecosystem (the part before the first `:`) → its version order. Ecosystems OSV orders by SemVer
 * (its schema says so, or osv.dev compares them so) use `semver`; the ones missing here (Android,
 * GitHub Actions, Linux, OSS-Fuzz, opam, FreeBSD, VSCode, Root, CleanStart, TuxCare, …) OSV leaves
 * unordered: their records are expected to list `versions`, and ranges fall back to the generic order.
 */
const SCHEMES: Readonly<Record<string, VersionScheme>> = {
  npm: 'semver',
  'crates.io': 'semver',
  Hex: 'semver',
  Bitnami: 'semver',
  ConanCenter: 'semver',
  'Docker Hardened Images': 'semver',
  GHC: 'semver',
  Julia: 'semver',
  SwiftURL: 'semver',
  Go: 'go',
  PyPI: 'pep440',
  Maven: 'maven',
  Debian: 'dpkg',
  Ubuntu: 'dpkg',
  Echo: 'dpkg',
  Alpine: 'apk',
  Wolfi: 'apk',
  Chainguard: 'apk',
  Alpaquita: 'apk',
  'BellSoft Hardened Containers': 'apk',
  MinimOS: 'apk',
  'Red Hat': 'rpm',
  AlmaLinux: 'rpm',
  'Rocky Linux': 'rpm',
  SUSE: 'rpm',
  openSUSE: 'rpm',
  Mageia: 'rpm',
  openEuler: 'rpm',
  'Azure Linux': 'rpm',
  'Photon OS': 'rpm',
  RubyGems: 'rubygems',
  Packagist: 'composer',
  NuGet: 'nuget',
  Pub: 'pub',
  CRAN: 'cran',
  Bioconductor: 'cran',
  Hackage: 'hackage',
};

/** The part of an OSV ecosystem string before the first `:` (`Ubuntu:22.04:LTS` → `Ubuntu`). */
export function baseEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return i < 0 ? ecosystem : ecosystem.slice(0, i);
}

export function schemeFor(ecosystem: string): VersionScheme {
  return SCHEMES[baseEcosystem(ecosystem)] ?? 'generic';
}

const COMPARATORS: Record<VersionScheme, Comparator> = {
  semver: compareSemver,
  go: compareGo,
  pep440: comparePep440,
  maven: compareMaven,
  dpkg: compareDpkg,
  apk: compareApk,
  rpm: compareRpm,
  rubygems: compareRubyGems,
  composer: compareComposer,
  nuget: compareNuGet,
  pub: comparePub,
  cran: compareCran,
  hackage: compareHackage,
  generic: compareGeneric,
};

export function comparatorFor(ecosystem: string): Comparator {
  return COMPARATORS[schemeFor(ecosystem)];
}

/** Negative, zero or positive as version a sorts before, equal to, or after b in the ecosystem's order. */
export function compareVersions(ecosystem: string, a: string, b: string): number {
  return comparatorFor(ecosystem)(a, b);
}
