// The on-disk formats of SPEC §1 and §4 as types. Field names are part of the contract.

export type Digest = `sha256:${string}`;
export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export type ArtifactName = 'sbom' | 'findings' | 'vex' | 'verdict';
export type ArtifactSchema = 'cyclonedx-1.6' | 'stella-findings-v1' | 'openvex-0.2.0' | 'stella-verdict-v1';
/** Each artifact's path in a record directory and its schema, in record order. */
const ARTIFACTS: ReadonlyArray<readonly [ArtifactName, string, ArtifactSchema]> = [
  ['sbom', 'artifacts/sbom.cdx.json', 'cyclonedx-1.6'],
  ['findings', 'artifacts/findings.json', 'stella-findings-v1'],
  ['vex', 'artifacts/vex.openvex.json', 'openvex-0.2.0'],
  ['verdict', 'artifacts/verdict.json', 'stella-verdict-v1'],
];
export const ARTIFACT_NAMES: readonly ArtifactName[] = ARTIFACTS.map(([name]) => name);
export const ARTIFACT_PATHS = Object.fromEntries(ARTIFACTS.map(([name, file]) => [name, file])) as Record<ArtifactName, string>;
export const ARTIFACT_SCHEMAS = Object.fromEntries(ARTIFACTS.map(([name, , schema]) => [name, schema])) as Record<ArtifactName, ArtifactSchema>;

// ---- ScanManifest v1 (SPEC §1.2) -------------------------------------------------------------
export type InputType = 'sbom' | 'lockfile' | 'directory' | 'oci_archive';
export type ClockMode = 'frozen' | 'recorded';

export interface ScanManifest {
  manifest_version: string;
  scan_id: string;
  created_at: string;
  input: {
    type: InputType;
    ref: string;
    digest: Digest;
    /** oci_archive inputs: the stored image archive (input.digest is the image config digest). */
    archive_digest?: Digest;
    layers: Digest[];
    source_provenance: { repo_sha: string; build_id: string };
  };
  scanner: {
    engine: string;
    scanner_image_digest: Digest;
    scanner_version: string;
    config_digest: Digest;
    flags: string[];
  };
  feeds: { vuln_feed_bundle_digest: Digest | string; license_db_digest: Digest | null };
  policy: { policy_bundle_digest: Digest | string; policy_set: string };
  environment: {
    arch: string;
    os: string;
    tz: string;
    locale: string;
    network: 'disabled' | 'enabled';
    clock_mode: ClockMode;
    clock_value: string;
    cpus: number;
  };
  normalization: { canonicalizer_version: string; sbom_schema: string; vex_schema: string };
  labels: { ecosystem: string; base_os: string; regulated: boolean; project: string };
}

// ---- outputs.json (SPEC §1.1) ----------------------------------------------------------------
export interface OutputEntry {
  path: string;
  canonical_sha256: Digest;
  /** SHA-256 of the bytes as written; differs from canonical when the writer's order is unstable. */
  raw_sha256: Digest;
  schema: ArtifactSchema;
  bytes: number;
}
export type Outputs = Record<ArtifactName, OutputEntry>;

// ---- stella findings v1 ----------------------------------------------------------------------
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'none' | 'unknown';
export const SEVERITY_ORDER: readonly Severity[] = ['unknown', 'none', 'low', 'medium', 'high', 'critical'];

export interface PackageRef {
  ecosystem: string;
  name: string;
  version: string;
  purl: string;
}

export interface Finding {
  /** Content-derived: hash of (vulnerability_id, package purl). */
  id: string;
  vulnerability_id: string;
  /** Every other id the advisory is known by (CVE, GHSA, GO-, PYSEC-), sorted. */
  aliases: string[];
  package: PackageRef;
  severity: Severity;
  cvss_vector: string | null;
  cvss_score: number | null;
  fixed_versions: string[];
  summary: string;
  published: string | null;
  modified: string | null;
  /** First date a fix was published (OSV `published` of the record that names a fix), for date rules. */
  fix_available_since: string | null;
  /** Which feed records produced this finding: id + sha256 of the record file in the bundle. */
  sources: Array<{ id: string; path: string; sha256: Digest }>;
}

export interface FindingsDoc {
  schema: 'stella-findings/v1';
  scan_id: string;
  findings: Finding[];
  /** Scan notes (packages whose ecosystem OSV leaves unordered, compared with the generic order); absent when none. */
  notes?: string[];
}

// ---- policy verdict v1 ---------------------------------------------------------------------
export type Decision = 'pass' | 'warn' | 'fail';
export interface VerdictReason {
  code: string;
  subject: string;
  detail: string;
}
export interface VerdictDoc {
  schema: 'stella-verdict/v1';
  decision: Decision;
  reasons: VerdictReason[];
  policy_set: string;
  evaluated_at: string;
}

// ---- replay.json (SPEC §4) ---------------------------------------------------------------------
export type MismatchReason =
  | 'feed_drift'
  | 'policy_drift'
  | 'scanner_drift'
  | 'runtime_drift'
  | 'external_io'
  | 'nondeterminism';
export const MISMATCH_REASONS: readonly MismatchReason[] = [
  'feed_drift',
  'policy_drift',
  'scanner_drift',
  'runtime_drift',
  'external_io',
  'nondeterminism',
];
export type ReplayStatus = 'passed' | 'failed' | 'error';
export type ExecutorKind = 'docker' | 'local';

export interface ExecutorEnvironment {
  kind: ExecutorKind;
  image_digest: string | null;
  network: string;
  read_only: boolean;
  user: string;
  tz: string;
  locale: string;
  clock_mode: ClockMode;
  clock_value: string;
  cpus: number;
  arch: string;
  os: string;
  kernel: string;
  engine_version: string | null;
  /** Local executor replays are lower assurance (no container isolation). */
  assurance: 'high' | 'low';
  /** The scanner flags (fault switches) it ran with, when any. */
  scanner_flags?: string[];
  /** The seed the fault switches drew their wall clock and ids from, when one was given. */
  fault_seed?: string;
}

export interface ReplayRecord {
  replay_id: string;
  original_scan_id: string;
  manifest_sha256: Digest;
  mode: string;
  executor: ExecutorEnvironment;
  started_at: string;
  finished_at: string;
  status: ReplayStatus;
  bf_match: boolean | null;
  sf_match: boolean | null;
  pf_match: boolean | null;
  artifacts: Partial<Record<ArtifactName, { canonical_sha256: Digest }>>;
  mismatch_reason: MismatchReason | null;
  subtags: string[];
  warnings?: string[];
  diff_summary: unknown | null;
  classifier_version?: string;
  error?: string;
}
