// NuGet version order (NuGet.Versioning's VersionComparer, "Default" mode): SemVer 2.0.0 extended to
// four numeric parts `Major.Minor.Patch.Revision` (missing parts are 0, so `1.0 = 1.0.0.0`; leading
// zeros do not count), pre-release labels compared as SemVer 2.0.0 identifiers but case-insensitively
// (`1.0.0-BETA = 1.0.0-beta`), build metadata (`+…`) ignored. Strings that are not NuGet versions fall
// back to the generic order so the comparator stays total.
import { compareGeneric } from './generic.js';
import { comparePrerelease } from './semver.js';
import { compareDigits } from './util.js';

const NUGET = /^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.+-]*))?\s*$/;

export interface NuGetVersion {
  parts: [string, string, string, string];
  pre: string[];
}

export function parseNuGet(input: string): NuGetVersion | null {
  const m = NUGET.exec(input);
  if (!m) return null;
  return { parts: [m[1], m[2] ?? '0', m[3] ?? '0', m[4] ?? '0'], pre: m[5] === undefined ? [] : m[5].toLowerCase().split('.') };
}

export function compareNuGet(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseNuGet(a);
  const y = parseNuGet(b);
  if (!x || !y) return x || y ? (x ? 1 : -1) : compareGeneric(a, b);
  for (let i = 0; i < 4; i++) {
    const c = compareDigits(x.parts[i], y.parts[i]);
    if (c !== 0) return c;
  }
  return comparePrerelease(x.pre, y.pre);
}
