// Deterministic replay-record generator for store tests and the index bench: realistic scanner
// versions, ecosystems, causes and timestamps spread over 90 days, from a seeded PRNG (same seed,
// same bytes). Records are written exactly as `stella replay` lays them out: <id>/replay.json +
// <id>/manifest.json (the original's manifest).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MismatchReason, ReplayRecord, ScanManifest } from '../src/core/formats.js';
import type { ReplayIn } from '../store/sqlite-store.js';
import { mulberry32 } from '../src/core/seeded-random.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const digest = (s: string) => `sha256:${hex(s)}` as const;

export const SCANNERS = ['0.9.4', '1.0.0', '1.0.1', '1.1.0', '1.2.0'];
export const ECOSYSTEMS = ['npm', 'PyPI', 'Go', 'crates.io', 'Maven', 'Debian'];
export const POLICY_SETS = ['prod-default', 'prod-strict', 'dev-lenient'];
export const BASE_OS = ['debian-12', 'alpine-3.20', 'ubuntu-24.04', 'none'];
export const PROJECTS = ['billing-api', 'web-frontend', 'auth-service', 'data-pipeline', 'mobile-bff', 'payments-core', 'search', 'ledger'];
const REGULATED = new Set(['payments-core', 'ledger']);
const SUBTAGS: Record<MismatchReason, string[]> = {
  feed_drift: ['osv_modified', 'osv_added'],
  policy_drift: ['rule_changed'],
  scanner_drift: ['version_changed'],
  runtime_drift: ['tz', 'cpus'],
  external_io: ['unpinned_feed'],
  nondeterminism: ['ordering', 'time', 'rng', 'concurrency'],
};
const CAUSE_WEIGHTS: Array<[MismatchReason, number]> = [
  ['feed_drift', 0.4],
  ['nondeterminism', 0.25],
  ['scanner_drift', 0.12],
  ['policy_drift', 0.1],
  ['runtime_drift', 0.08],
  ['external_io', 0.05],
];

export interface GenSpec {
  /** Index of the record; ids derive from it and the seed. */
  i: number;
  finishedAt: string;
  outcome: 'passed' | 'failed' | 'error';
  cause?: MismatchReason;
  scanner?: string;
  ecosystem?: string;
  policySet?: string;
  baseOs?: string;
  project?: string;
  regulated?: boolean;
  /** Failed replays: whether SF/PF still matched. */
  sfMatch?: boolean;
  pfMatch?: boolean;
  durationMs?: number;
  prefix?: string;
}

export function makeRecord(s: GenSpec): { replay: ReplayRecord; manifest: ScanManifest } {
  const prefix = s.prefix ?? 'r';
  const scanId = `scan_${hex(`${prefix}-scan-${s.i}`).slice(0, 16)}`;
  const replayId = `replay_${hex(`${prefix}-replay-${s.i}`).slice(0, 16)}`;
  const project = s.project ?? PROJECTS[s.i % PROJECTS.length];
  const created = new Date(Date.parse(s.finishedAt) - 86_400_000 * 3).toISOString().replace(/\.\d+Z$/, 'Z');
  const manifest: ScanManifest = {
    manifest_version: '1.0',
    scan_id: scanId,
    created_at: created,
    input: {
      type: 'lockfile',
      ref: `${project}/package-lock.json`,
      digest: digest(`input-${s.i}`),
      layers: [],
      source_provenance: { repo_sha: hex(`sha-${s.i}`).slice(0, 40), build_id: `ci-${1000 + s.i}` },
    },
    scanner: {
      engine: 'stella',
      scanner_image_digest: digest(`image-${s.scanner ?? '1.0.0'}`),
      scanner_version: s.scanner ?? '1.0.0',
      config_digest: digest('config'),
      flags: [],
    },
    feeds: { vuln_feed_bundle_digest: digest(`feed-${created.slice(0, 10)}`), license_db_digest: null },
    policy: { policy_bundle_digest: digest(`policy-${s.policySet ?? 'prod-default'}`), policy_set: s.policySet ?? 'prod-default' },
    environment: { arch: 'amd64', os: 'linux', tz: 'UTC', locale: 'C', network: 'disabled', clock_mode: 'frozen', clock_value: created, cpus: 2 },
    normalization: { canonicalizer_version: '1.0.0', sbom_schema: 'cyclonedx-1.6', vex_schema: 'openvex-0.2.0' },
    labels: { ecosystem: s.ecosystem ?? 'npm', base_os: s.baseOs ?? 'debian-12', regulated: s.regulated ?? REGULATED.has(project), project },
  };
  const dur = s.durationMs ?? 4000 + (s.i % 17) * 250;
  const started = new Date(Date.parse(s.finishedAt) - dur).toISOString();
  const failed = s.outcome === 'failed';
  const cause = failed ? (s.cause ?? 'feed_drift') : null;
  const replay: ReplayRecord = {
    replay_id: replayId,
    original_scan_id: scanId,
    manifest_sha256: digest(`manifest-${s.i}`),
    mode: 'pinned',
    executor: {
      kind: 'docker',
      image_digest: manifest.scanner.scanner_image_digest,
      network: 'none',
      read_only: true,
      user: '65534:65534',
      tz: 'UTC',
      locale: 'C',
      clock_mode: 'frozen',
      clock_value: created,
      cpus: 2,
      arch: 'amd64',
      os: 'linux',
      kernel: '6.8.0',
      engine_version: '26.1.5',
      assurance: 'high',
    },
    started_at: started,
    finished_at: s.finishedAt,
    status: s.outcome,
    bf_match: s.outcome === 'error' ? null : !failed,
    sf_match: s.outcome === 'error' ? null : failed ? (s.sfMatch ?? false) : true,
    pf_match: s.outcome === 'error' ? null : failed ? (s.pfMatch ?? true) : true,
    artifacts: {},
    mismatch_reason: cause,
    subtags: cause ? [SUBTAGS[cause][s.i % SUBTAGS[cause].length]] : [],
    diff_summary: failed
      ? { version: 1, counts: { vulnerabilities_appeared: 1 + (s.i % 3), vulnerabilities_disappeared: s.i % 2, packages_changed: 0 }, top: [] }
      : null,
    classifier_version: '1.0.0',
    ...(s.outcome === 'error' ? { error: `feed bundle ${manifest.feeds.vuln_feed_bundle_digest} missing: restore it with stella feed` } : {}),
  };
  return { replay, manifest };
}

/** A realistic 90-day history: ~96% BF, causes weighted like production, errors ~1%. */
export function realisticSpecs(count: number, now: Date, seed = 7, days = 90): GenSpec[] {
  const rnd = mulberry32(seed);
  const out: GenSpec[] = [];
  const span = days * 86_400_000;
  for (let i = 0; i < count; i++) {
    const t = now.getTime() - Math.floor(rnd() * span);
    const u = rnd();
    const outcome = u < 0.01 ? 'error' : u < 0.05 ? 'failed' : 'passed';
    let c = rnd();
    let cause: MismatchReason = 'feed_drift';
    for (const [name, w] of CAUSE_WEIGHTS) {
      if (c < w) {
        cause = name;
        break;
      }
      c -= w;
    }
    out.push({
      i,
      finishedAt: new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'),
      outcome,
      cause,
      scanner: SCANNERS[Math.floor(rnd() * SCANNERS.length)],
      ecosystem: ECOSYSTEMS[Math.floor(rnd() * ECOSYSTEMS.length)],
      policySet: POLICY_SETS[Math.floor(rnd() * POLICY_SETS.length)],
      baseOs: BASE_OS[Math.floor(rnd() * BASE_OS.length)],
      sfMatch: rnd() < 0.5,
      durationMs: 2000 + Math.floor(rnd() * 20000),
    });
  }
  return out;
}

export function writeRecord(root: string, rec: { replay: ReplayRecord; manifest: ScanManifest }): string {
  const dir = path.join(root, rec.replay.replay_id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(rec.manifest, null, 2) + '\n');
  writeFileSync(path.join(dir, 'replay.json'), JSON.stringify(rec.replay, null, 2) + '\n');
  return dir;
}

/** The store row a generated record becomes (skips the disk: for scenario tests and the 1M-row bench). */
export function replayIn(spec: GenSpec, idSuffix = ''): ReplayIn {
  const { replay, manifest } = makeRecord(spec);
  return {
    replay_id: `${replay.replay_id}${idSuffix}`,
    original_scan_id: replay.original_scan_id,
    record_sha256: `sha256:${hex(JSON.stringify(replay))}`,
    status: replay.status,
    bf_match: replay.bf_match,
    sf_match: replay.sf_match,
    pf_match: replay.pf_match,
    auto_reason: replay.mismatch_reason,
    subtags: replay.subtags,
    started_at: replay.started_at,
    finished_at: replay.finished_at,
    duration_ms: Date.parse(replay.finished_at) - Date.parse(replay.started_at),
    scanner_version: manifest.scanner.scanner_version,
    ecosystem: manifest.labels.ecosystem,
    policy_set: manifest.policy.policy_set,
    base_os: manifest.labels.base_os,
    project: manifest.labels.project,
    feed_digest: manifest.feeds.vuln_feed_bundle_digest,
    regulated: manifest.labels.regulated,
    executor_kind: replay.executor.kind,
    record_dir: null,
    manifest_sha256: replay.manifest_sha256,
    classifier_version: replay.classifier_version ?? null,
    error: replay.error ?? null,
    diff_summary: replay.diff_summary,
    manifest,
    executor: replay.executor,
    warnings: [],
  };
}
