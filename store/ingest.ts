// Record dir → validated store rows. Each record is checked field by field: a bad record becomes a
// StellaError naming its file and the JSON path, so the indexer can report it and go on.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { StellaError, jsonPath } from '../src/core/errors.js';
import { DIGEST_RE, MISMATCH_REASONS, ARTIFACT_NAMES, type ScanManifest } from '../src/core/formats.js';
import { parseJsonBytes } from '../src/core/json/parse.js';
import { validateManifest } from '../src/core/manifest/validate.js';
import { checkRecordFile, readRecordBytes } from '../src/adapters/fs.js';
import type { ReplayIn, ScanIn } from './sqlite-store.js';
import { isObject as isObj, RFC3339 } from '../src/core/guards.js';


export type RecordKind = 'scan' | 'replay';

/** What kind of record a directory holds, if any (replay.json wins: a replay dir has a manifest too). */
export function recordKind(dir: string): RecordKind | null {
  if (existsSync(path.join(dir, 'replay.json'))) return 'replay';
  if (existsSync(path.join(dir, 'manifest.json')) && existsSync(path.join(dir, 'outputs.json'))) return 'scan';
  return null;
}

function sha256(parts: Buffer[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return `sha256:${h.digest('hex')}`;
}

type Obj = Record<string, unknown>;

function field(obj: Obj, key: string, file: string, segs: Array<string | number>): unknown {
  if (!(key in obj)) throw new StellaError('RECORD_INVALID', 'required field is missing', { file, path: jsonPath([...segs, key]) });
  return obj[key];
}
function str(obj: Obj, key: string, file: string, segs: Array<string | number> = []): string {
  const v = field(obj, key, file, segs);
  if (typeof v !== 'string' || v === '') throw new StellaError('RECORD_INVALID', 'must be a non-empty string', { file, path: jsonPath([...segs, key]) });
  return v;
}
function time(obj: Obj, key: string, file: string): string {
  const v = str(obj, key, file);
  if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) {
    throw new StellaError('RECORD_INVALID', `must be an RFC 3339 date-time, got ${JSON.stringify(v)}`, { file, path: jsonPath([key]) });
  }
  return v;
}
function boolOrNull(obj: Obj, key: string, file: string): boolean | null {
  const v = field(obj, key, file, []);
  if (v !== null && typeof v !== 'boolean') throw new StellaError('RECORD_INVALID', 'must be true, false or null', { file, path: jsonPath([key]) });
  return v;
}

/** Manifest: the shared validator, its first problem as the error. */
function manifestOf(file: string, bytes: Buffer): ScanManifest {
  const value = parseJsonBytes(bytes, file);
  const r = validateManifest(value);
  if (!r.ok) {
    const e = r.errors[0];
    throw new StellaError(e.version ? 'MANIFEST_VERSION_UNSUPPORTED' : 'MANIFEST_INVALID', e.message, { file, path: e.path });
  }
  return r.manifest;
}

function manifestFacts(m: ScanManifest) {
  return {
    scanner_version: m.scanner.scanner_version,
    ecosystem: m.labels.ecosystem,
    policy_set: m.policy.policy_set,
    base_os: m.labels.base_os,
    project: m.labels.project,
    feed_digest: m.feeds.vuln_feed_bundle_digest,
    regulated: m.labels.regulated,
  };
}

// Nested values readers print or re-create (ticket, repro, the workstation): each known field, when
// present, has its type; one pass over a fixed table, no per-record allocation.
/** A bad value as the message shows it: JSON, cut short (a record can hold anything). */
const shown = (x: unknown): string => {
  const t = JSON.stringify(x) ?? String(x);
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
};
const isStr = (x: unknown): boolean => typeof x === 'string';
const isStrOrNull = (x: unknown): boolean => x === null || typeof x === 'string';
const isPosInt = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x > 0;
const isStrArray = (x: unknown): boolean => Array.isArray(x) && x.every(isStr);
const EXECUTOR_FIELDS: ReadonlyArray<readonly [string, (x: unknown) => boolean, string]> = [
  ['image_digest', isStrOrNull, 'a string or null'],
  ['network', isStr, 'a string'],
  ['read_only', (x) => typeof x === 'boolean', 'true or false'],
  ['user', isStr, 'a string'],
  ['tz', isStr, 'a string'],
  ['locale', isStr, 'a string'],
  ['clock_mode', isStr, 'a string'],
  ['clock_value', isStr, 'a string'],
  ['cpus', isPosInt, 'a positive integer'],
  ['arch', isStr, 'a string'],
  ['os', isStr, 'a string'],
  ['kernel', isStr, 'a string'],
  ['engine_version', isStrOrNull, 'a string or null'],
  ['assurance', (x) => x === 'high' || x === 'low', 'high or low'],
  ['scanner_flags', isStrArray, 'an array of strings'],
  ['fault_seed', isStr, 'a string'],
];

function checkExecutor(executor: Obj, file: string): void {
  for (const [key, ok, want] of EXECUTOR_FIELDS) {
    if (key in executor && !ok(executor[key])) {
      throw new StellaError('RECORD_INVALID', `must be ${want}, got ${shown(executor[key])}`, { file, path: jsonPath(['executor', key]) });
    }
  }
}

/** diff_summary: an object; its counts (when there) non-negative integers, its levels booleans. */
function checkDiffSummary(d: unknown, file: string): void {
  if (!isObj(d)) throw new StellaError('RECORD_INVALID', `must be an object or null, got ${shown(d)}`, { file, path: '$.diff_summary' });
  for (const [key, ok, want] of [
    ['counts', (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0, 'a non-negative integer'],
    ['levels', (x: unknown) => typeof x === 'boolean', 'true or false'],
  ] as const) {
    if (!(key in d)) continue;
    const o = d[key];
    if (!isObj(o)) throw new StellaError('RECORD_INVALID', 'must be an object', { file, path: jsonPath(['diff_summary', key]) });
    for (const k in o) {
      if (!ok(o[k])) throw new StellaError('RECORD_INVALID', `must be ${want}, got ${shown(o[k])}`, { file, path: jsonPath(['diff_summary', key, k]) });
    }
  }
}

/** artifacts: artifact name → {canonical_sha256}, as the replay computed them. */
function checkReplayArtifacts(a: unknown, file: string): void {
  if (!isObj(a)) throw new StellaError('RECORD_INVALID', 'must be an object of artifact name → {canonical_sha256}', { file, path: '$.artifacts' });
  for (const name in a) {
    if (!ARTIFACT_NAMES.includes(name as never)) {
      throw new StellaError('RECORD_INVALID', `unknown artifact ${shown(name)}: expected one of ${ARTIFACT_NAMES.join('|')}`, { file, path: jsonPath(['artifacts', name]) });
    }
    const e = a[name];
    if (!isObj(e)) throw new StellaError('RECORD_INVALID', 'must be an object', { file, path: jsonPath(['artifacts', name]) });
    const d = e.canonical_sha256;
    if (typeof d !== 'string' || !DIGEST_RE.test(d)) {
      throw new StellaError('DIGEST_INVALID', `must be sha256: followed by 64 lowercase hex digits, got ${shown(d ?? null)}`, { file, path: jsonPath(['artifacts', name, 'canonical_sha256']) });
    }
  }
}

export function readReplayRecord(dir: string): ReplayIn {
  const replayFile = path.join(dir, 'replay.json');
  const manifestFile = path.join(dir, 'manifest.json');
  const rb = readRecordBytes(replayFile);
  const mb = readRecordBytes(manifestFile);
  const v = parseJsonBytes(rb, replayFile);
  if (!isObj(v)) throw new StellaError('RECORD_INVALID', 'replay.json must be a JSON object', { file: replayFile, path: '$' });
  const m = manifestOf(manifestFile, mb);
  const f = replayFile;
  const replay_id = str(v, 'replay_id', f);
  const original_scan_id = str(v, 'original_scan_id', f);
  const status = str(v, 'status', f);
  if (status !== 'passed' && status !== 'failed' && status !== 'error') {
    throw new StellaError('RECORD_INVALID', `must be passed, failed or error, got ${JSON.stringify(status)}`, { file: f, path: '$.status' });
  }
  const started_at = time(v, 'started_at', f);
  const finished_at = time(v, 'finished_at', f);
  const reason = field(v, 'mismatch_reason', f, []);
  if (reason !== null && !MISMATCH_REASONS.includes(reason as never)) {
    throw new StellaError('RECORD_INVALID', `unknown mismatch reason ${JSON.stringify(reason)}: expected one of ${MISMATCH_REASONS.join('|')} or null`, {
      file: f,
      path: '$.mismatch_reason',
    });
  }
  const subtags = field(v, 'subtags', f, []);
  if (!Array.isArray(subtags)) throw new StellaError('RECORD_INVALID', 'must be an array of strings', { file: f, path: '$.subtags' });
  subtags.forEach((s, i) => {
    if (typeof s !== 'string') throw new StellaError('RECORD_INVALID', 'must be a string', { file: f, path: jsonPath(['subtags', i]) });
  });
  const executor = field(v, 'executor', f, []);
  if (!isObj(executor)) throw new StellaError('RECORD_INVALID', 'must be an object', { file: f, path: '$.executor' });
  const executor_kind = str(executor, 'kind', f, ['executor']);
  checkExecutor(executor, f);
  const diff_summary = 'diff_summary' in v ? (v.diff_summary ?? null) : null;
  if (diff_summary !== null) checkDiffSummary(diff_summary, f);
  if ('artifacts' in v) checkReplayArtifacts(v.artifacts, f);
  let manifest_sha256: string | null = null;
  if ('manifest_sha256' in v) {
    const d = v.manifest_sha256;
    if (typeof d !== 'string' || !DIGEST_RE.test(d)) {
      throw new StellaError('DIGEST_INVALID', 'must be sha256: followed by 64 lowercase hex digits', { file: f, path: '$.manifest_sha256' });
    }
    manifest_sha256 = d;
  }
  let mode = 'pinned';
  if ('mode' in v) {
    if (typeof v.mode !== 'string' || !(v.mode === 'pinned' || v.mode.startsWith('what-if:'))) {
      throw new StellaError('RECORD_INVALID', 'must be a string naming the replay mode (pinned or what-if:…)', { file: f, path: '$.mode' });
    }
    mode = v.mode;
  }
  const warnings = Array.isArray(v.warnings) ? v.warnings.filter((w): w is string => typeof w === 'string') : [];
  const dur = Date.parse(finished_at) - Date.parse(started_at);
  return {
    replay_id,
    original_scan_id,
    record_sha256: sha256([rb, Buffer.from([0]), mb]),
    status,
    bf_match: boolOrNull(v, 'bf_match', f),
    sf_match: boolOrNull(v, 'sf_match', f),
    pf_match: boolOrNull(v, 'pf_match', f),
    auto_reason: reason as ReplayIn['auto_reason'],
    subtags: subtags as string[],
    started_at,
    finished_at,
    duration_ms: dur >= 0 ? dur : null,
    ...manifestFacts(m),
    executor_kind,
    record_dir: path.resolve(dir),
    manifest_sha256,
    classifier_version: typeof v.classifier_version === 'string' ? v.classifier_version : null,
    error: typeof v.error === 'string' ? v.error : null,
    diff_summary,
    manifest: m,
    executor,
    warnings,
    mode,
  };
}

export function readScanRecord(dir: string): ScanIn {
  const manifestFile = path.join(dir, 'manifest.json');
  const outputsFile = path.join(dir, 'outputs.json');
  const mb = readRecordBytes(manifestFile);
  const m = manifestOf(manifestFile, mb);
  const o = parseJsonBytes(readRecordBytes(outputsFile), outputsFile);
  if (!isObj(o)) throw new StellaError('RECORD_INVALID', 'outputs.json must be a JSON object', { file: outputsFile, path: '$' });
  const artifacts: ScanIn['artifacts'] = [];
  for (const name of Object.keys(o).sort()) {
    if (!ARTIFACT_NAMES.includes(name as never)) continue;
    const e = o[name];
    if (!isObj(e)) throw new StellaError('RECORD_INVALID', 'must be an object', { file: outputsFile, path: jsonPath([name]) });
    const canon = str(e, 'canonical_sha256', outputsFile, [name]);
    if (!DIGEST_RE.test(canon)) {
      throw new StellaError('DIGEST_INVALID', 'must be sha256: followed by 64 lowercase hex digits', { file: outputsFile, path: jsonPath([name, 'canonical_sha256']) });
    }
    const bytes = e.bytes;
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) {
      throw new StellaError('RECORD_INVALID', 'must be a non-negative integer', { file: outputsFile, path: jsonPath([name, 'bytes']) });
    }
    // Artifact paths: relative, inside the record and not links, by the one rule every reader applies.
    const rel = str(e, 'path', outputsFile, [name]);
    checkRecordFile(dir, rel, { file: outputsFile, path: jsonPath([name, 'path']) });
    artifacts.push({
      name,
      path: rel,
      canonical_sha256: canon,
      raw_sha256: typeof e.raw_sha256 === 'string' ? e.raw_sha256 : null,
      schema: str(e, 'schema', outputsFile, [name]),
      bytes,
    });
  }
  return {
    scan_id: m.scan_id,
    created_at: m.created_at,
    manifest_sha256: sha256([mb]),
    ...manifestFacts(m),
    policy_digest: m.policy.policy_bundle_digest,
    record_dir: path.resolve(dir),
    manifest: m,
    artifacts,
  };
}
