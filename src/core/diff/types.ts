// The data a comparison works on and the comparison it produces (SPEC §4). Pure types: loading a record
// from disk is src/app/record.ts; everything here is computed from already-parsed values.
import type { ArtifactName, ArtifactSchema, Decision, Digest, Outputs, ReplayRecord, ScanManifest, Severity, VerdictReason } from '../formats.js';

/** One artifact of a record: the parsed document and the two hashes of SPEC §1.3. */
export interface RecordArtifact {
  name: ArtifactName;
  schema: ArtifactSchema;
  /** Path inside the record, e.g. `artifacts/sbom.cdx.json`. */
  path: string;
  doc: unknown;
  canonical_sha256: Digest;
  raw_sha256: Digest;
}

/** A scan or replay record directory, parsed (SPEC §1.1). */
export interface ScanRecord {
  /** The directory as the user named it (only used in messages). */
  dir: string;
  manifest: ScanManifest;
  outputs: Outputs;
  artifacts: Record<ArtifactName, RecordArtifact>;
  /** Present when the directory is a replay record. */
  replay: ReplayRecord | null;
}

export interface ArtifactBf {
  name: ArtifactName;
  a: Digest;
  b: Digest;
  canonical_equal: boolean;
  raw_equal: boolean;
}

export interface PackageChange {
  /** Package identity without version: the purl up to `@`, or `name` for components without a purl. */
  key: string;
  a: string[];
  b: string[];
}
export interface PackageSide {
  key: string;
  versions: string[];
}

/** A finding's identity is (vulnerability id, package purl), as the findings canonicalizer sorts them. */
export interface VulnRef {
  vulnerability_id: string;
  purl: string;
  severity: Severity;
}
export interface VulnValueChange<T> {
  vulnerability_id: string;
  purl: string;
  a: T;
  b: T;
}
export interface VexFlip {
  vulnerability: string;
  product: string;
  a: string | null;
  b: string | null;
}
export interface ReasonRef {
  code: string;
  subject: string;
}

export interface Comparison {
  bf: { match: boolean; artifacts: ArtifactBf[] };
  sf: {
    match: boolean;
    packages: { added: PackageSide[]; removed: PackageSide[]; changed: PackageChange[] };
    vulnerabilities: {
      appeared: VulnRef[];
      disappeared: VulnRef[];
      severity_changed: Array<VulnValueChange<Severity>>;
      fix_changed: Array<VulnValueChange<string[]>>;
    };
    vex: { status_flips: VexFlip[] };
    verdict: { match: boolean; a: Decision; b: Decision; reasons: { added: ReasonRef[]; removed: ReasonRef[] } };
  };
  pf: { match: boolean; decision: { a: Decision; b: Decision }; reasons: { added: string[]; removed: string[] } };
  /** `unstable_raw_order:<artifact>` when raw bytes differ but canonical bytes match (SPEC §1.3). */
  warnings: string[];
}

export type { VerdictReason };
