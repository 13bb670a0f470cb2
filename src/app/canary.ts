// The golden canary set (fixtures/canaries): build it, check that it still reproduces, and replay it with
// a candidate scanner image for a release pipeline, then gate.
//
// What is committed per canary: manifest.json (pins input, feed, policy, clock) and outputs.json (the
// expected canonical hashes). The artifacts are not committed: they are regenerated on demand by running
// the in-process scanner on the committed manifest, and a regeneration that does not reproduce the
// committed hashes is refused — the goldens then no longer describe this checkout's scanner.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { makeTempDir } from '../adapters/temp.js';
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import {
  ARTIFACT_NAMES,
  type ArtifactName,
  type Digest,
  type MismatchReason,
  type Outputs,
  type ReplayRecord,
  type ScanManifest,
} from '../core/formats.js';
import type { Executor, OnEvent, RecordFs } from '../core/ports.js';
import { gateCanaries, parseCanarySet, type CanaryEntry, type CanaryGate, type CanaryOutcome, type CanarySet } from '../core/chaos/canary.js';
import { percentText, type ReplayFacts } from '../core/fidelity/index.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { readJsonFile } from '../adapters/fs.js';
import { buildFeedBundle, FIXTURE_SOURCES, openFeedBundle } from './feed.js';
import { readPolicyFile } from './policy.js';
import { readManifestFile } from './manifest-file.js';
import { repoRoot } from './image.js';
import { writeRecordDir } from './record.js';
import { computeOutputs, scan } from './scan.js';
import { replay } from './replay.js';
import { loadStoredInput } from '../scanner/inputs/load.js';
import { parseInputFile } from '../scanner/inputs/index.js';
import { faultsFromFlags } from '../scanner/faults.js';
import { runScan, serializeArtifacts } from '../scanner/run.js';

export const CANARY_SET_FILE = 'canaries.json';

export function defaultCanaryDir(): string {
  return path.join(repoRoot(), 'fixtures/canaries');
}

function thirdParty(): string {
  return path.join(repoRoot(), 'fixtures/third_party');
}

export function readCanarySet(dir: string): CanarySet {
  return parseCanarySet(readJsonFile(path.join(dir, CANARY_SET_FILE)), path.join(dir, CANARY_SET_FILE));
}

/** The pinned pieces every canary shares, rebuilt from fixtures and stored in the blob store. */
export interface CanaryPins {
  feedDigest: Digest;
  policyDigest: Digest;
}

/** Rebuild the canary feed bundle (deterministic: same records + generated_at → same digest) and the policy. */
export async function storeCanaryPins(set: CanarySet, blobs: BlobStore): Promise<CanaryPins> {
  const src = makeTempDir('stella-canary-feed-');
  let feed: Awaited<ReturnType<typeof buildFeedBundle>>;
  try {
    for (const d of set.feed.include) cpSync(path.join(thirdParty(), set.feed.source, d), path.join(src, d), { recursive: true });
    feed = await buildFeedBundle(src, { generatedAt: set.feed.generated_at, sources: FIXTURE_SOURCES });
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  blobs.put(feed.bytes);
  const policy = readPolicyFile(path.join(repoRoot(), set.policy));
  blobs.put(policy.bytes);
  return { feedDigest: feed.digest, policyDigest: policy.digest };
}

export interface RebuildResult {
  id: string;
  scan_id: string;
  ecosystem: string;
  findings: number;
  decision: string;
}

/**
 * Scan every canary with `stella scan` semantics (fixed clock, UTC, C locale) and commit its manifest
 * and outputs under `<dir>/<id>/`. Used to create the set and after an intended scanner change.
 */
export async function rebuildCanaries(o: { dir: string; blobs: BlobStore; now: () => Date; workDir: string; onEvent?: OnEvent }): Promise<RebuildResult[]> {
  const set = readCanarySet(o.dir);
  const pins = await storeCanaryPins(set, o.blobs);
  const out: RebuildResult[] = [];
  for (const c of set.canaries) {
    const r = await scan({
      input: c.input,
      cwd: thirdParty(),
      feedRef: pins.feedDigest,
      policyRef: pins.policyDigest,
      outDir: o.workDir,
      clock: set.clock,
      labels: { project: c.labels.project, regulated: c.labels.regulated, base_os: c.labels.base_os },
      blobs: o.blobs,
      now: o.now,
      env: { TZ: 'UTC', LC_ALL: 'C' },
    });
    if (r.manifest.labels.ecosystem !== c.labels.ecosystem) {
      throw new StellaError('SCHEMA_INVALID', `canary ${c.id}: the scanner finds mostly ${r.manifest.labels.ecosystem} packages, the set says ${c.labels.ecosystem}`, {
        file: path.join(o.dir, CANARY_SET_FILE),
        path: `$.canaries[${set.canaries.indexOf(c)}].labels.ecosystem`,
      });
    }
    // What is committed: the scan record's manifest and outputs, as the scan wrote them.
    await writeRecordDir(path.join(o.dir, c.id), { manifest: r.manifest, outputs: r.outputs });
    out.push({ id: c.id, scan_id: r.manifest.scan_id, ecosystem: r.manifest.labels.ecosystem, findings: r.findings, decision: r.verdict.decision });
    o.onEvent?.({ kind: 'progress', id: 'canary-rebuild', done: out.length, total: set.canaries.length, label: c.id });
  }
  return out;
}

export interface Golden {
  entry: CanaryEntry;
  manifestFile: string;
  manifest: ScanManifest;
  outputs: Outputs;
}

export function readGoldens(dir: string, set: CanarySet): Golden[] {
  return set.canaries.map((entry) => {
    const manifestFile = path.join(dir, entry.id, 'manifest.json');
    if (!existsSync(manifestFile)) throw new StellaError('NOT_FOUND', `canary ${entry.id} has no committed manifest; run \`stella canary --rebuild\``, { file: manifestFile });
    const manifest = readManifestFile(manifestFile);
    const outputsFile = path.join(dir, entry.id, 'outputs.json');
    const outputs = readJsonFile(outputsFile) as Outputs;
    for (const n of ARTIFACT_NAMES) {
      if (typeof outputs?.[n]?.canonical_sha256 !== 'string') {
        throw new StellaError('RECORD_INVALID', `no expected canonical hash for ${n}`, { file: outputsFile, path: `$.${n}.canonical_sha256` });
      }
    }
    return { entry, manifestFile, manifest, outputs };
  });
}

/** Run the in-process scanner on a committed manifest with the blobs it pins: its artifacts' bytes. */
export async function regenerate(g: Golden, blobs: BlobStore): Promise<Record<ArtifactName, Buffer>> {
  const m = g.manifest;
  // Parsers choose by file name (as the replay mounts it: the basename of the input ref).
  const input =
    m.input.type === 'directory' || m.input.type === 'oci_archive'
      ? loadStoredInput(blobs.pathOf(m.input.archive_digest ?? m.input.digest), m.input.type)
      : parseInputFile({ name: path.posix.basename(m.input.ref), bytes: blobs.get(m.input.digest) });
  const feed = await openFeedBundle(blobs.get(m.feeds.vuln_feed_bundle_digest), { expectedDigest: m.feeds.vuln_feed_bundle_digest });
  const policy = readPolicyFile(path.join(repoRoot(), 'fixtures/policies', `${m.policy.policy_set}.yaml`));
  if (policy.digest !== m.policy.policy_bundle_digest) {
    throw new StellaError('BUNDLE_DIGEST_MISMATCH', `policy ${m.policy.policy_set} compiles to ${policy.digest} but the canary pins ${m.policy.policy_bundle_digest}`, {
      file: g.manifestFile,
      path: '$.policy.policy_bundle_digest',
    });
  }
  const docs = runScan({ packages: input.packages, records: feed.records, policy: policy.policy, manifest: m, faults: faultsFromFlags(m.scanner.flags, g.manifestFile), cpus: m.environment.cpus, timeZone: m.environment.tz });
  return serializeArtifacts(docs) as Record<ArtifactName, Buffer>;
}

/** Put every canary's input, the feed and the policy in the blob store, checking each against its pin. */
export async function storeCanaryBlobs(set: CanarySet, goldens: readonly Golden[], blobs: BlobStore): Promise<void> {
  const pins = await storeCanaryPins(set, blobs);
  for (const g of goldens) {
    const bytes = readFileSync(path.join(thirdParty(), g.entry.input));
    const digest = blobs.put(bytes);
    const checks: Array<[string, string, string]> = [
      // An image canary pins its archive beside the image config digest.
      g.manifest.input.archive_digest ? [digest, g.manifest.input.archive_digest, '$.input.archive_digest'] : [digest, g.manifest.input.digest, '$.input.digest'],
      [pins.feedDigest, g.manifest.feeds.vuln_feed_bundle_digest, '$.feeds.vuln_feed_bundle_digest'],
      [pins.policyDigest, g.manifest.policy.policy_bundle_digest, '$.policy.policy_bundle_digest'],
    ];
    for (const [got, pinned, at] of checks) {
      if (got !== pinned) {
        throw new StellaError('BUNDLE_DIGEST_MISMATCH', `rebuilt from fixtures as ${got}, but the canary pins ${pinned}; the fixtures changed — run \`stella canary --rebuild\``, {
          file: g.manifestFile,
          path: at,
        });
      }
    }
  }
}

/** The differing artifacts of regenerated outputs against the goldens (empty = reproduced). */
export function goldenDifferences(g: Golden, got: Outputs): ArtifactName[] {
  return ARTIFACT_NAMES.filter((n) => got[n].canonical_sha256 !== g.outputs[n].canonical_sha256);
}

/**
 * A full original record per canary under `<home>/canaries/<id>/`: the committed manifest and outputs plus
 * regenerated artifacts, which must reproduce the committed hashes.
 */
export async function materializeOriginals(
  dir: string,
  goldens: readonly Golden[],
  blobs: BlobStore,
  target: string,
  fs?: RecordFs,
): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const g of goldens) {
    const artifacts = await regenerate(g, blobs);
    const differs = goldenDifferences(g, computeOutputs(artifacts));
    if (differs.length) {
      throw new StellaError(
        'RECORD_INVALID',
        `canary ${g.entry.id}: this checkout's scanner no longer reproduces the committed ${differs.join(', ')} hash(es); if the change is intended run \`stella canary --rebuild\` and commit, otherwise the scanner regressed`,
        { file: path.join(dir, g.entry.id, 'outputs.json'), path: `$.${differs[0]}.canonical_sha256` },
      );
    }
    const out = path.join(target, g.entry.id);
    // The committed manifest's exact bytes (signature-free, as committed); outputs as readGoldens read them.
    await writeRecordDir(out, { manifest: readFileSync(g.manifestFile), artifacts, outputs: g.outputs }, fs);
    dirs.set(g.entry.id, out);
  }
  return dirs;
}

export interface CanaryRunOptions {
  dir: string;
  scannerImage: Digest;
  executor: Executor;
  blobs: BlobStore;
  /** Where originals and replay records go (`<home>/canaries`, `<home>/canary-replays`). */
  home: string;
  now: () => Date;
  prepareImage?: (imageId: Digest) => Promise<unknown>;
  timeoutMs?: number;
  /** Index the originals and replays into this SQLite file (the store of `stella gate`). */
  indexDb?: string;
  onEvent?: OnEvent;
  signal?: AbortSignal;
  /** Where the originals' and replays' record files are written (default: node:fs); tests count writes through it. */
  fs?: RecordFs;
}

export interface CanaryRow {
  id: string;
  project: string;
  ecosystem: string;
  replay_id: string;
  status: ReplayRecord['status'];
  bf_match: boolean | null;
  mismatch_reason: MismatchReason | null;
  subtags: string[];
  differing_artifacts: ArtifactName[];
  dir: string | null;
  error?: string;
}

export interface CanaryReport {
  scanner_image: Digest;
  canaries: CanaryRow[];
  bf: number | null;
  gate: CanaryGate;
}

/** Replay the set with the candidate image (what-if scanner), classify against the goldens, gate. */
export async function runCanaries(o: CanaryRunOptions): Promise<CanaryReport> {
  const set = readCanarySet(o.dir);
  const goldens = readGoldens(o.dir, set);
  await storeCanaryBlobs(set, goldens, o.blobs);
  const originals = await materializeOriginals(o.dir, goldens, o.blobs, path.join(o.home, 'canaries'), o.fs);
  const replayRoot = path.join(o.home, 'canary-replays');
  const rows: CanaryRow[] = [];
  const outcomes: CanaryOutcome[] = [];
  o.onEvent?.({ kind: 'start', id: 'canary', total: goldens.length, label: 'canaries' });
  for (const g of goldens) {
    if (o.signal?.aborted) throw new StellaError('IO', 'interrupted: canary run stopped; finished replays are kept');
    const original = originals.get(g.entry.id)!;
    const res = await replay({
      manifestPath: path.join(original, 'manifest.json'),
      outDir: replayRoot,
      executor: o.executor,
      whatIf: { scanner: o.scannerImage },
      blobs: o.blobs,
      now: o.now,
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.prepareImage ? { prepareImage: o.prepareImage } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.fs ? { fs: o.fs } : {}),
    });
    // replay() has already classified the record against the original (SPEC §4).
    const record = res.record;
    const differing = ARTIFACT_NAMES.filter((n) => record.artifacts[n] && record.artifacts[n]!.canonical_sha256 !== g.outputs[n].canonical_sha256);
    rows.push({
      id: g.entry.id,
      project: g.manifest.labels.project,
      ecosystem: g.manifest.labels.ecosystem,
      replay_id: record.replay_id,
      status: record.status,
      bf_match: record.bf_match,
      mismatch_reason: record.mismatch_reason,
      subtags: record.subtags,
      differing_artifacts: differing,
      dir: res.dir,
      ...(record.error ? { error: record.error } : {}),
    });
    outcomes.push({ id: g.entry.id, reason: record.mismatch_reason, facts: factsOf(record, g.manifest) });
    o.onEvent?.({ kind: 'progress', id: 'canary', done: rows.length, total: goldens.length, label: `${g.entry.id} ${record.status}` });
  }
  if (o.indexDb) await indexCanaryRun(o.indexDb, [path.join(o.home, 'canaries'), replayRoot]);
  const completed = rows.filter((r) => r.status !== 'error');
  return {
    scanner_image: o.scannerImage,
    canaries: rows,
    bf: completed.length ? completed.filter((r) => r.bf_match === true).length / completed.length : null,
    gate: gateCanaries(outcomes),
  };
}

function factsOf(r: ReplayRecord, m: ScanManifest): ReplayFacts {
  const started = Date.parse(r.started_at);
  const finished = Date.parse(r.finished_at);
  return {
    status: r.status,
    bf_match: r.bf_match,
    sf_match: r.sf_match,
    pf_match: r.pf_match,
    finished_at: r.finished_at,
    duration_ms: Number.isNaN(started) || Number.isNaN(finished) ? null : finished - started,
    scanner_version: m.scanner.scanner_version,
    ecosystem: m.labels.ecosystem,
    policy_set: m.policy.policy_set,
    base_os: m.labels.base_os,
    feed_digest: m.feeds.vuln_feed_bundle_digest,
    project: m.labels.project,
    regulated: m.labels.regulated,
    tag: r.mismatch_reason,
  };
}

async function indexCanaryRun(dbPath: string, roots: string[]): Promise<void> {
  const { indexOwnRecords } = await import('./indexer.js');
  await indexOwnRecords(dbPath, roots, 'canary');
}

/** Plain text for the terminal. */
export function renderCanaryReport(r: CanaryReport): string {
  const lines = [`canary run with scanner ${r.scanner_image}`];
  for (const c of r.canaries) {
    const what = c.status === 'error' ? `error: ${c.error}` : c.bf_match ? 'BF match' : `BF differs in ${c.differing_artifacts.join(', ')} — ${c.mismatch_reason ?? 'unclassified'}${c.subtags.length ? `/${c.subtags.join(',')}` : ''}`;
    lines.push(`  ${c.id.padEnd(22)} ${c.status.padEnd(7)} ${what}`);
  }
  const bf = percentText(r.bf);
  lines.push(`canary BF ${bf} over ${r.canaries.filter((c) => c.status !== 'error').length} replays; gate: ${r.gate.state.toUpperCase()}`);
  for (const reason of r.gate.reasons) lines.push(`  ${reason}`);
  return lines.join('\n') + '\n';
}
