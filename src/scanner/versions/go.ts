// Go module versions (https://go.dev/ref/mod#versions): semantic versions with a mandatory `v` prefix.
// `+incompatible` is build metadata (ignored by precedence), and pseudo-versions such as
// `v0.0.0-20210101120000-abcdef123456` or `v1.2.4-0.20210101120000-abcdef123456` are ordinary SemVer
// pre-releases, so they sort below the release they precede — exactly what `go` itself does.
// OSV Go records write range events without the `v`; both forms are accepted.
import { compareSemver, parseSemver, type SemVer } from './semver.js';

export function parseGoVersion(input: string): SemVer | null {
  return parseSemver(input);
}

export function compareGo(a: string, b: string): number {
  return compareSemver(a, b);
}

/** True for a pseudo-version (a commit without a tag), in any of the three forms the go command generates. */
export function isPseudoVersion(v: string): boolean {
  return /^v?\d+\.\d+\.\d+-(?:[0-9A-Za-z.-]*\.)?(?:0\.)?\d{14}-[0-9a-f]{12}(?:\+incompatible)?$/.test(v);
}
