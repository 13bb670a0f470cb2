// ScanManifest v1 validation (SPEC §1.2). Validation returns every bad JSON path as data; callers that
// need one error (the CLI, replay) throw the first.
import { StellaError, jsonPath } from '../errors.js';
import { DIGEST_RE, type ScanManifest } from '../formats.js';
import { parseJsonBytes } from '../json/parse.js';
import { isObject, RFC3339 } from '../guards.js';

export interface ManifestError {
  path: string;
  message: string;
  /** Set when the error is about the format version, not a field. */
  version?: boolean;
}

export type ManifestValidation = { ok: true; manifest: ScanManifest } | { ok: false; errors: ManifestError[] };

export const SUPPORTED_MAJOR = 1;

// RFC 3339 date-time with a zone (Z or ±hh:mm); fractional seconds allowed.
/** Values that mean "not pinned": legal in historical manifests, classified at replay time. */
export const UNPINNED = new Set(['latest', '']);

type Check = (v: unknown) => string | null;

const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? null : 'must be a non-empty string');
const anyStr: Check = (v) => (typeof v === 'string' ? null : 'must be a string');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const digest: Check = (v) =>
  typeof v === 'string' && DIGEST_RE.test(v) ? null : `must be sha256: followed by 64 lowercase hex, got ${show(v)}`;
const digestOrUnpinned: Check = (v) =>
  typeof v === 'string' && (DIGEST_RE.test(v) || UNPINNED.has(v))
    ? null
    : `must be sha256: followed by 64 lowercase hex (or "latest" for an unpinned historical scan), got ${show(v)}`;
const digestOrNull: Check = (v) => (v === null ? null : digest(v));
const time: Check = (v) =>
  typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v)) ? null : `must be an RFC 3339 date-time, got ${show(v)}`;
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? null : `must be one of ${allowed.join('|')}, got ${show(v)}`;
const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? null : `must be a positive integer, got ${show(v)}`);
const arrayOf =
  (item: Check): Check =>
  (v) => {
    if (!Array.isArray(v)) return 'must be an array';
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i]);
      if (e) return `[${i}] ${e}`;
    }
    return null;
  };

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** The field table: every leaf of SPEC §1.2 and its check. Order is the order errors are reported. */
export const MANIFEST_FIELDS: ReadonlyArray<readonly [ReadonlyArray<string>, Check]> = [
  [['manifest_version'], str],
  [['scan_id'], (v) => (typeof v === 'string' && /^scan_[A-Za-z0-9_.-]+$/.test(v) ? null : `must look like scan_…, got ${show(v)}`)],
  [['created_at'], time],
  [['input', 'type'], oneOf('sbom', 'lockfile', 'directory', 'oci_archive')],
  [['input', 'ref'], str],
  [['input', 'digest'], digest],
  [['input', 'layers'], arrayOf(digest)],
  [['input', 'source_provenance', 'repo_sha'], anyStr],
  [['input', 'source_provenance', 'build_id'], anyStr],
  [['scanner', 'engine'], str],
  [['scanner', 'scanner_image_digest'], digestOrUnpinned],
  [['scanner', 'scanner_version'], str],
  [['scanner', 'config_digest'], digest],
  [['scanner', 'flags'], arrayOf(anyStr)],
  [['feeds', 'vuln_feed_bundle_digest'], digestOrUnpinned],
  [['feeds', 'license_db_digest'], digestOrNull],
  [['policy', 'policy_bundle_digest'], digestOrUnpinned],
  [['policy', 'policy_set'], str],
  [['environment', 'arch'], str],
  [['environment', 'os'], str],
  [['environment', 'tz'], str],
  [['environment', 'locale'], str],
  [['environment', 'network'], oneOf('disabled', 'enabled')],
  [['environment', 'clock_mode'], oneOf('frozen', 'recorded')],
  [['environment', 'clock_value'], time],
  [['environment', 'cpus'], positiveInt],
  [['normalization', 'canonicalizer_version'], (v) => (typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v) ? null : `must be a semantic version, got ${show(v)}`)],
  [['normalization', 'sbom_schema'], str],
  [['normalization', 'vex_schema'], str],
  [['labels', 'ecosystem'], anyStr],
  [['labels', 'base_os'], anyStr],
  [['labels', 'regulated'], bool],
  [['labels', 'project'], anyStr],
];

export function validateManifest(value: unknown): ManifestValidation {
  if (!isObject(value)) return { ok: false, errors: [{ path: '$', message: 'manifest must be a JSON object' }] };
  const version = value.manifest_version;
  if (typeof version === 'string') {
    const m = /^(\d+)\.(\d+)$/.exec(version);
    if (!m) return { ok: false, errors: [{ path: '$.manifest_version', message: `must be MAJOR.MINOR, got ${show(version)}`, version: true }] };
    if (Number(m[1]) !== SUPPORTED_MAJOR) {
      return {
        ok: false,
        errors: [
          {
            path: '$.manifest_version',
            message: `manifest version ${version} is not supported: this stella reads ${SUPPORTED_MAJOR}.x manifests; upgrade stella to read it`,
            version: true,
          },
        ],
      };
    }
  }
  const errors: ManifestError[] = [];
  for (const [segs, check] of MANIFEST_FIELDS) {
    let cur: unknown = value;
    let missingAt = -1;
    for (let i = 0; i < segs.length; i++) {
      if (!isObject(cur) || !(segs[i] in cur)) {
        missingAt = i;
        break;
      }
      cur = cur[segs[i]];
    }
    if (missingAt >= 0) {
      const parentOk = missingAt === 0 || isObjectAt(value, segs.slice(0, missingAt));
      const p = jsonPath(segs.slice(0, parentOk ? missingAt + 1 : missingAt));
      const message = parentOk ? 'required field is missing' : 'must be an object';
      if (!errors.some((e) => e.path === p)) errors.push({ path: p, message });
      continue;
    }
    const problem = check(cur);
    if (problem) errors.push({ path: jsonPath(segs), message: problem });
  }
  // Optional: image inputs pin the stored archive beside the image config digest.
  const input = value.input;
  if (isObject(input) && 'archive_digest' in input) {
    const problem = digest(input.archive_digest);
    if (problem) errors.push({ path: '$.input.archive_digest', message: problem });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, manifest: value as unknown as ScanManifest };
}

/** Parse + validate; throws the first problem naming the file and JSON path. */
export function parseManifest(bytes: Uint8Array, file: string): ScanManifest {
  const value = parseJsonBytes(bytes, file);
  return manifestFromValue(value, file);
}

export function manifestFromValue(value: unknown, file: string): ScanManifest {
  const r = validateManifest(value);
  if (r.ok) return r.manifest;
  const first = r.errors[0];
  throw new StellaError(first.version ? 'MANIFEST_VERSION_UNSUPPORTED' : 'MANIFEST_INVALID', first.message, { file, path: first.path });
}

/** Pinned-ness: the fields that do not name content by digest (SPEC: historical scans may have them). */
export function unpinnedFields(m: ScanManifest): string[] {
  const out: string[] = [];
  if (!DIGEST_RE.test(m.feeds.vuln_feed_bundle_digest)) out.push('$.feeds.vuln_feed_bundle_digest');
  if (!DIGEST_RE.test(m.policy.policy_bundle_digest)) out.push('$.policy.policy_bundle_digest');
  if (!DIGEST_RE.test(m.scanner.scanner_image_digest)) out.push('$.scanner.scanner_image_digest');
  return out;
}

export function isPinned(m: ScanManifest): boolean {
  return unpinnedFields(m).length === 0;
}

function isObjectAt(root: unknown, segs: ReadonlyArray<string>): boolean {
  let cur = root;
  for (const s of segs) {
    if (!isObject(cur)) return false;
    cur = cur[s];
  }
  return isObject(cur);
}
