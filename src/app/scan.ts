// `stella scan` as a use case: resolve feed and policy, store the input so a replay can restore it,
// pin everything in a ScanManifest, run the scanner (in process by default, or through an Executor),
// and write the record directory atomically. Also the record writer replays reuse.
import { randomUUID } from 'node:crypto';

import { availableParallelism } from 'node:os';
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import { scannerVersion } from './version.js';
import { ARTIFACT_PATHS, type ArtifactName, type Digest, type InputType, type Outputs, type ScanManifest, type VerdictDoc } from '../core/formats.js';
import type { Executor, OnEvent } from '../core/ports.js';
import { CANONICALIZER_VERSION, canonicalDigest, compareCodeUnits } from '../core/canonical/index.js';
import { parseJsonBytes } from '../core/json/parse.js';
import { manifestFromValue } from '../core/manifest/validate.js';
import { BlobStore } from '../adapters/blob-store.js';
import { resolveFeedRef } from './feed.js';
import { executeScanner } from './execute-scanner.js';
import { writeRecordDir } from './record.js';
import { scanIdOf } from '../core/record/identity.js';
import { computeOutputs } from '../core/record/outputs.js';
import { resolvePolicyRef } from './policy.js';
import { readScanInputAt } from '../scanner/inputs/load.js';
import type { ScanInput } from '../scanner/inputs/index.js';
import { faultFlags, parseFaults, type FaultName } from '../scanner/faults.js';
import { runScan, serializeArtifacts } from '../scanner/run.js';
import type { ScanPackage } from '../scanner/types.js';
import { RFC3339 } from '../core/guards.js';

export interface ScanOptions {
  /** Input file or directory, as the user named it (relative to cwd). */
  input: string;
  /** Feed bundle: `sha256:…` in the blob store, or a .tar.zst path (then stored). */
  feedRef: string;
  /** Policy: `sha256:…` in the blob store, or a JSON/YAML file (then compiled and stored). */
  policyRef: string;
  /** Parent directory; the record is written to `<outDir>/<scan_id>/`. */
  outDir: string;
  /** `--clock T`: freeze the scan clock at T (RFC 3339). Otherwise now(), to the second. */
  clock?: string;
  faults?: readonly string[];
  labels?: { project?: string; regulated?: boolean; base_os?: string };
  blobs: BlobStore;
  now: () => Date;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run the scanner through an executor (docker/local) instead of in process. */
  executor?: Executor;
  /** Docker executor: make the scanner image present in the engine before the run. */
  prepareImage?: (imageId: Digest) => Promise<unknown>;
  /** scanner_image_digest to record; default computed (see scannerImageDigest). */
  scannerImageDigest?: Digest;
  onEvent?: OnEvent;
}

export interface ScanResult {
  dir: string;
  manifest: ScanManifest;
  outputs: Outputs;
  verdict: VerdictDoc;
  findings: number;
  packages: number;
  notes: string[];
}


/** The scan clock: `--clock` verbatim (validated), else now() truncated to whole seconds. */
export function scanClock(clock: string | undefined, now: () => Date): { value: string; mode: 'frozen' | 'recorded' } {
  if (clock !== undefined) {
    if (!RFC3339.test(clock) || Number.isNaN(Date.parse(clock))) {
      throw new StellaError('USAGE', `--clock '${clock}' is not an RFC 3339 date-time (e.g. 2025-12-12T10:15:30Z)`);
    }
    return { value: clock, mode: 'frozen' };
  }
  const ms = Math.floor(now().getTime() / 1000) * 1000;
  return { value: new Date(ms).toISOString().replace('.000Z', 'Z'), mode: 'recorded' };
}

export { scannerVersion } from './version.js';

/** The deterministic scanner image's ID (what a replay runs), computed by the image use case. */
export async function scannerImageDigest(blobs: BlobStore): Promise<Digest> {
  const { scannerImageId } = await import('./image.js');
  return scannerImageId({ blobs });
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

/** The dominant ecosystem (most packages; ties by name in code-unit order), '' when there are none. */
export function dominantEcosystem(packages: readonly ScanPackage[]): string {
  const counts = new Map<string, number>();
  for (const p of packages) counts.set(p.ecosystem, (counts.get(p.ecosystem) ?? 0) + 1);
  let best = '';
  let n = 0;
  for (const [e, c] of [...counts].sort((a, b) => compareCodeUnits(a[0], b[0]))) if (c > n) [best, n] = [e, c];
  return best;
}

function baseOs(packages: readonly ScanPackage[]): string {
  const os = new Set(packages.map((p) => p.ecosystem).filter((e) => e === 'Debian' || e === 'Alpine' || e === 'Red Hat'));
  return [...os].sort(compareCodeUnits).join('+').toLowerCase();
}

/** A project name from the input: the directory for a lockfile or a directory, the file stem for an SBOM. */
function projectName(inputPath: string, type: InputType): string {
  const abs = path.resolve(inputPath);
  if (type === 'sbom') return path.basename(abs).replace(/(\.cdx|\.spdx)?\.json$/i, '');
  if (type === 'oci_archive') return path.basename(abs).replace(/(\.docker-save|\.oci|\.containerd-oci)?(\.tar(\.gz)?|\.tgz)?$/i, '');
  return type === 'directory' ? path.basename(abs) : path.basename(path.dirname(abs));
}

/**
 * Read and parse the input, and the bytes the blob store keeps for it (a directory as a tar of its
 * inputs, an image archive as is, an OCI layout directory as a tar of its files).
 */
export function readScanInput(inputPath: string): { parsed: ScanInput; stored: Buffer } {
  return readScanInputAt(inputPath);
}

export function buildManifest(a: {
  /** Image inputs: digest = the image config digest, archiveDigest = the stored archive, layers = diff_ids. */
  input: { type: InputType; ref: string; digest: Digest; archiveDigest?: Digest; layers?: Digest[] };
  scannerImageDigest: Digest;
  scannerVersion: string;
  faults: readonly FaultName[];
  feedDigest: Digest;
  policyDigest: Digest;
  policySet: string;
  clock: { value: string; mode: 'frozen' | 'recorded' };
  environment: { arch: string; os: string; tz: string; locale: string; cpus: number };
  labels: ScanManifest['labels'];
}): ScanManifest {
  const flags = faultFlags(a.faults);
  const pinned = {
    input: { type: a.input.type, digest: a.input.digest, ...(a.input.archiveDigest ? { archive_digest: a.input.archiveDigest } : {}) },
    scanner: {
      engine: 'stella',
      scanner_image_digest: a.scannerImageDigest,
      scanner_version: a.scannerVersion,
      config_digest: canonicalDigest({ flags, faults: [...a.faults] }),
      flags,
    },
    feeds: { vuln_feed_bundle_digest: a.feedDigest, license_db_digest: null },
    policy: { policy_bundle_digest: a.policyDigest, policy_set: a.policySet },
    environment: { ...a.environment, network: 'disabled' as const, clock_mode: a.clock.mode, clock_value: a.clock.value },
    normalization: { canonicalizer_version: CANONICALIZER_VERSION, sbom_schema: 'cyclonedx-1.6', vex_schema: 'openvex-0.2.0' },
  };
  // The id names what was pinned (not where the input lived or how it is labelled): same inputs, same id.
  const scanId = scanIdOf(pinned);
  return {
    manifest_version: '1.0',
    scan_id: scanId,
    created_at: a.clock.value,
    input: {
      type: a.input.type,
      ref: a.input.ref,
      digest: a.input.digest,
      ...(a.input.archiveDigest ? { archive_digest: a.input.archiveDigest } : {}),
      layers: a.input.layers ?? [],
      source_provenance: { repo_sha: '', build_id: '' },
    },
    scanner: pinned.scanner,
    feeds: pinned.feeds,
    policy: pinned.policy,
    environment: pinned.environment,
    normalization: pinned.normalization,
    labels: a.labels,
  };
}

export { computeOutputs } from '../core/record/outputs.js';

/** Write a scan record directory (manifest.json, outputs.json, artifacts/) atomically; returns outputs. */
export async function writeScanRecord(dir: string, manifest: ScanManifest, artifactBytes: Record<ArtifactName, Uint8Array>): Promise<Outputs> {
  manifestFromValue(manifest, path.join(dir, 'manifest.json'));
  const outputs = computeOutputs(artifactBytes);
  await writeRecordDir(dir, { manifest, artifacts: artifactBytes, outputs });
  return outputs;
}

export async function scan(opts: ScanOptions): Promise<ScanResult> {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const faults = parseFaults(opts.faults ?? []);
  const clock = scanClock(opts.clock, opts.now);
  const inputPath = path.resolve(cwd, opts.input);
  // Everything that can be bad input is read and checked before anything is stored or written.
  const { parsed, stored } = readScanInput(inputPath);
  const feed = await resolveFeedRef(opts.feedRef, opts.blobs, { cwd });
  const policy = resolvePolicyRef(opts.policyRef, opts.blobs, { cwd });
  const storedDigest = opts.blobs.put(stored);
  // An image is named by its config digest (the image ID); the archive that carries it is pinned beside.
  const input = parsed.image
    ? { type: parsed.type, ref: opts.input, digest: parsed.image.configDigest as Digest, archiveDigest: storedDigest, layers: parsed.image.diffIds as Digest[] }
    : { type: parsed.type, ref: opts.input, digest: storedDigest };
  const imageDigest = opts.scannerImageDigest ?? (await scannerImageDigest(opts.blobs));
  const cpus = availableParallelism();
  const manifest = buildManifest({
    input,
    scannerImageDigest: imageDigest,
    scannerVersion: scannerVersion(),
    faults,
    feedDigest: feed.digest,
    policyDigest: policy.digest,
    policySet: policy.policy.policy_set,
    clock,
    environment: {
      arch: ARCH[process.arch] ?? process.arch,
      os: process.platform,
      tz: env.TZ || 'UTC',
      locale: env.LC_ALL || env.LANG || 'C',
      cpus,
    },
    labels: {
      ecosystem: dominantEcosystem(parsed.packages),
      base_os: opts.labels?.base_os ?? (parsed.image ? parsed.image.baseOs || 'unknown' : baseOs(parsed.packages)),
      regulated: opts.labels?.regulated ?? false,
      project: opts.labels?.project ?? projectName(inputPath, parsed.type),
    },
  });

  let artifactBytes: Record<ArtifactName, Uint8Array>;
  if (opts.executor) {
    const run = await executeScanner({ id: manifest.scan_id, manifest, executor: opts.executor, blobs: opts.blobs,
      ...(opts.prepareImage ? { prepareImage: opts.prepareImage } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
    if (!run.artifacts) throw new StellaError('IO', `scanner run failed: ${run.failure ?? (run.aborted ? 'aborted' : 'no artifacts')}`, { file: opts.input });
    artifactBytes = run.artifacts;
  } else {
    const docs = runScan({
      packages: parsed.packages,
      records: feed.records,
      policy: policy.policy,
      manifest,
      faults,
      ...(faults.includes('wallclock') ? { wallclock: opts.now() } : {}),
      ...(faults.includes('random-ids') ? { randomUUID } : {}),
      cpus,
      timeZone: manifest.environment.tz,
    });
    artifactBytes = serializeArtifacts(docs);
  }
  const dir = path.join(path.resolve(cwd, opts.outDir), manifest.scan_id);
  const outputs = await writeScanRecord(dir, manifest, artifactBytes);
  const findingsDoc = parseJsonBytes(artifactBytes.findings, ARTIFACT_PATHS.findings) as { findings: unknown[]; notes?: string[] };
  const verdict = parseJsonBytes(artifactBytes.verdict, ARTIFACT_PATHS.verdict) as VerdictDoc;
  return { dir, manifest, outputs, verdict, findings: findingsDoc.findings.length, packages: parsed.packages.length, notes: [...parsed.notes, ...(findingsDoc.notes ?? [])] };
}
