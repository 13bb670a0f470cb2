// The scanner proper, pure: packages + feed records + policy + manifest → the four artifacts. The same
// function runs in process (`stella scan`), as a child process and in the replay container (entry.ts).
// Everything non-deterministic a fault switch needs (wall clock, random ids, CPU count, time zone) is
// passed in by the caller; with no faults on, the output is a function of the inputs alone.
import { StellaError } from '../core/errors.js';
import type { FindingsDoc, ScanManifest, VerdictDoc } from '../core/formats.js';
import type { CompiledPolicy } from '../core/policy/policy.js';
import { buildMatchIndex, genericOrderNotes, matchWithIndex } from './match.js';
import type { OsvRecordEntry, ScanPackage } from './types.js';
import type { FaultName } from './faults.js';
import { buildCycloneDx } from './emit/cyclonedx.js';
import { buildFindings } from './emit/findings.js';
import { buildOpenVex } from './emit/openvex.js';
import { buildVerdict } from './emit/verdict.js';

export interface RunScanInput {
  packages: ScanPackage[];
  records: OsvRecordEntry[];
  policy: CompiledPolicy;
  manifest: ScanManifest;
  faults: readonly FaultName[];
  /** `wallclock`: the real time at run (entry.ts reads it). */
  wallclock?: Date;
  /** `random-ids`: a UUID4 source (crypto.randomUUID in entry.ts). */
  randomUUID?: () => string;
  /** `unsorted-workers`: simulated worker count; default the manifest's environment.cpus. */
  cpus?: number;
  /** `tz-date-rule`: the process time zone; default the manifest's environment.tz. */
  timeZone?: string;
}

export interface ScanArtifacts {
  sbom: Record<string, unknown>;
  findings: FindingsDoc;
  vex: Record<string, unknown>;
  verdict: VerdictDoc;
}

export function runScan(input: RunScanInput): ScanArtifacts {
  const { manifest: m, faults } = input;
  const on = (f: FaultName) => faults.includes(f);
  if (on('wallclock') && !input.wallclock) throw new StellaError('USAGE', 'fault wallclock needs the wall-clock time from the caller');
  if (on('random-ids') && !input.randomUUID) throw new StellaError('USAGE', 'fault random-ids needs a random UUID source from the caller');
  const clock = m.environment.clock_value;
  const index = buildMatchIndex(input.records);
  const findings = matchWithIndex(input.packages, index, {
    workerOrder: on('unsorted-workers') ? { cpus: input.cpus ?? m.environment.cpus } : 'sorted',
  });
  const sbom = buildCycloneDx(input.packages, { manifest: m, ...(on('wallclock') ? { wallclock: input.wallclock } : {}) });
  const vex = buildOpenVex(findings, {
    clock,
    scannerVersion: m.scanner.scanner_version,
    policy: input.policy,
    ...(on('random-ids') ? { randomUUID: input.randomUUID } : {}),
  });
  const verdict = buildVerdict(input.policy, findings, {
    ecosystem: m.labels.ecosystem,
    clock,
    ...(on('tz-date-rule') ? { dateRuleTimeZone: input.timeZone ?? m.environment.tz } : {}),
  });
  return { sbom, findings: buildFindings(m.scan_id, findings, genericOrderNotes(input.packages, index)), vex, verdict };
}

/** Serialized artifacts as the scanner writes them: pretty JSON, trailing newline. */
export function serializeArtifacts(a: ScanArtifacts): Record<keyof ScanArtifacts, Buffer> {
  const ser = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + '\n', 'utf8');
  return { sbom: ser(a.sbom), findings: ser(a.findings), vex: ser(a.vex), verdict: ser(a.verdict) };
}
