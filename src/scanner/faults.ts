// Hidden fault-injection switches (SPEC §2) for testing the drift classifier. Off by default; when on,
// each is recorded in the manifest's `scanner.flags` as `--fault=<name>` and changes exactly one
// artifact, the way the real-world bug it imitates would.
import { StellaError } from '../core/errors.js';
import type { ArtifactName } from '../core/formats.js';

export type FaultName = 'unsorted-workers' | 'wallclock' | 'random-ids' | 'tz-date-rule';

/** Each switch and the one artifact it disturbs. */
export const FAULTS: Readonly<Record<FaultName, { artifact: ArtifactName; imitates: string }>> = {
  'unsorted-workers': { artifact: 'findings', imitates: 'findings emitted in the completion order of concurrent workers (depends on the CPU count)' },
  wallclock: { artifact: 'sbom', imitates: 'a wall-clock timestamp written into the SBOM' },
  'random-ids': { artifact: 'vex', imitates: 'UUID4 document and statement ids in the VEX' },
  'tz-date-rule': { artifact: 'verdict', imitates: 'a date rule that counts days in the process time zone' },
};

export const FAULT_NAMES = Object.keys(FAULTS).sort() as FaultName[];

const FLAG_PREFIX = '--fault=';

export function isFaultName(s: string): s is FaultName {
  return Object.prototype.hasOwnProperty.call(FAULTS, s);
}

/** Validate switch names from the command line: sorted, unique; an unknown name is a usage error. */
export function parseFaults(names: readonly string[]): FaultName[] {
  for (const n of names) {
    if (!isFaultName(n)) throw new StellaError('USAGE', `unknown fault switch '${n}' (known: ${FAULT_NAMES.join(', ')})`);
  }
  return FAULT_NAMES.filter((n) => names.includes(n));
}

/** How the switches appear in `scanner.flags`. */
export function faultFlags(faults: readonly FaultName[]): string[] {
  return parseFaults(faults).map((f) => `${FLAG_PREFIX}${f}`);
}

/** The switches a manifest's flags turn on (a replay runs with the same ones). */
export function faultsFromFlags(flags: readonly string[], file?: string): FaultName[] {
  const names: string[] = [];
  flags.forEach((f, i) => {
    if (!f.startsWith(FLAG_PREFIX)) return;
    const n = f.slice(FLAG_PREFIX.length);
    if (!isFaultName(n)) {
      throw new StellaError('MANIFEST_INVALID', `unknown fault switch '${n}' (known: ${FAULT_NAMES.join(', ')})`, { file, path: `$.scanner.flags[${i}]` });
    }
    names.push(n);
  });
  return parseFaults(names);
}
