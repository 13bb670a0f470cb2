// What the scanner process adds to the pure scan: the release it was built as (a file baked into the
// image), the process environment a fault switch reads (time zone, CPU count), and — when a fault seed
// is given — the wall clock and random ids a switch writes, drawn from that seed instead of the host.
// The container entry (entry.ts) and the in-process demo generator both call `scanUnder`, so a demo
// record is exactly what the image produces under the same recorded environment.
import { createHash } from 'node:crypto';
import { StellaError } from '../core/errors.js';
import { isObject } from '../core/guards.js';
import type { ScanManifest } from '../core/formats.js';
import { mulberry32 } from '../core/seeded-random.js';
import { runScan, type RunScanInput, type ScanArtifacts } from './run.js';

/** `/app/scanner-release.json` in an image built as a named release (another matcher version or config). */
export interface ScannerRelease {
  /** The version this build reports in its artifacts, whatever the manifest it is handed says. */
  version: string;
}

export const RELEASE_FILE = 'scanner-release.json';

export function parseRelease(value: unknown, file: string): ScannerRelease {
  if (!isObject(value) || typeof value.version !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(value.version)) {
    throw new StellaError('RECORD_INVALID', 'must be an object with a version string', { file, path: '$.version' });
  }
  return { version: value.version };
}

export interface ScanRuntime {
  /** The process time zone (TZ). */
  timeZone: string;
  /** The CPU count the scanner's workers see. */
  cpus: number;
  release: ScannerRelease | null;
  /** Recorded seed for the `wallclock` and `random-ids` switches; null draws them from the host. */
  faultSeed: string | null;
  /** Host sources, used only without a seed. */
  wallclock: () => Date;
  randomUUID: () => string;
}

/** UUID4-shaped ids from a seeded stream. */
export function seededUuid(rnd: () => number): () => string {
  return () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(rnd() * 4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
}

/** The stream a fault seed names: the same seed gives the same draws on every machine. */
export function seedStream(seed: string): () => number {
  return mulberry32(createHash('sha256').update(seed).digest().readUInt32BE(0));
}

/** The manifest the artifacts describe: a release reports its own version. */
export function releasedManifest(m: ScanManifest, release: ScannerRelease | null): ScanManifest {
  if (!release || release.version === m.scanner.scanner_version) return m;
  return { ...m, scanner: { ...m.scanner, scanner_version: release.version } };
}

export function scanUnder(input: Omit<RunScanInput, 'wallclock' | 'randomUUID' | 'cpus' | 'timeZone'>, rt: ScanRuntime): ScanArtifacts {
  const on = (f: string) => input.faults.some((x) => x === f);
  let wallclock: Date | undefined;
  let randomUUID: (() => string) | undefined;
  if (rt.faultSeed !== null) {
    // A seeded run: the wall clock lands up to 90 s after the frozen clock, then the ids follow.
    const rnd = seedStream(rt.faultSeed);
    const base = Date.parse(input.manifest.environment.clock_value);
    wallclock = new Date((Number.isNaN(base) ? 0 : base) + Math.floor(rnd() * 90_000));
    randomUUID = seededUuid(rnd);
  } else {
    if (on('wallclock')) wallclock = rt.wallclock();
    if (on('random-ids')) randomUUID = rt.randomUUID;
  }
  return runScan({
    ...input,
    manifest: releasedManifest(input.manifest, rt.release),
    ...(on('wallclock') ? { wallclock } : {}),
    ...(on('random-ids') ? { randomUUID } : {}),
    cpus: rt.cpus,
    timeZone: rt.timeZone,
  });
}
