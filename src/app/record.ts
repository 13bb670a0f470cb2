// Loading a scan or replay record directory (SPEC §1.1) for comparison, with one clear error per kind
// of bad input: not a record (names the missing file), unknown artifact schema (names the file and the
// JSON path of the schema marker), a malformed replay.json, two records of different scans.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { canonicalArtifactDigest, detectSchema, rawDigest } from '../core/canonical/index.js';
import { StellaError, isStellaError, jsonPath } from '../core/errors.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, ARTIFACT_SCHEMAS, DIGEST_RE, type ArtifactName, type Digest, type Outputs, type ReplayRecord, type ScanManifest } from '../core/formats.js';
import { manifestFromValue } from '../core/manifest/index.js';
import { parseJsonBytes } from '../core/json/parse.js';
import type { RecordArtifact, ScanRecord } from '../core/diff/index.js';
import { readRecordBytes, readRecordFile } from '../adapters/fs.js';
import { checkRecordPath } from '../core/record-path.js';
import { writeDirAtomic } from '../adapters/fs.js';
import { effectiveManifest, whatIfOfMode } from '../core/record/index.js';
import type { RecordFs } from '../core/ports.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isObject as isObj } from '../core/guards.js';

export type { ScanRecord };


/** Where each artifact says what it is; an unknown schema error points here. */
const SCHEMA_MARKER: Record<ArtifactName, string> = {
  sbom: '$.bomFormat',
  findings: '$.schema',
  vex: '$["@context"]',
  verdict: '$.schema',
};

function readJson(file: string): unknown {
  return parseJsonBytes(readRecordBytes(file), file);
}

function requireFile(dir: string, rel: string, what: string): string {
  const file = path.join(dir, rel);
  if (!existsSync(file)) throw new StellaError('RECORD_INVALID', `not a scan record: ${rel} is missing (${what})`, { file });
  return file;
}

export function readOutputs(file: string): Outputs {
  const value = readJson(file);
  if (!isObj(value)) throw new StellaError('RECORD_INVALID', 'outputs.json must be an object of artifact name → entry', { file, path: '$' });
  for (const name of ARTIFACT_NAMES) {
    const e = value[name];
    if (!isObj(e)) throw new StellaError('RECORD_INVALID', `no entry for the ${name} artifact`, { file, path: jsonPath([name]) });
    if (e.schema !== ARTIFACT_SCHEMAS[name]) {
      throw new StellaError('SCHEMA_INVALID', `unknown schema ${JSON.stringify(e.schema)} for ${name} (expected ${ARTIFACT_SCHEMAS[name]})`, { file, path: jsonPath([name, 'schema']) });
    }
    // The path it names: relative and inside the record, by the rule every record reader shares.
    checkRecordPath(e.path, { file, path: jsonPath([name, 'path']) });
    for (const k of ['canonical_sha256', 'raw_sha256'] as const) {
      if (typeof e[k] !== 'string' || !DIGEST_RE.test(e[k] as string)) {
        throw new StellaError('DIGEST_INVALID', `must be sha256: followed by 64 lowercase hex, got ${JSON.stringify(e[k])}`, { file, path: jsonPath([name, k]) });
      }
    }
  }
  return value as unknown as Outputs;
}

/** replay.json, checked for the fields readers rely on (ids, mode, executor). */
export function readReplayFile(file: string): ReplayRecord {
  const value = readJson(file);
  if (!isObj(value)) throw new StellaError('RECORD_INVALID', 'replay.json must be an object', { file, path: '$' });
  for (const k of ['replay_id', 'original_scan_id'] as const) {
    if (typeof value[k] !== 'string') throw new StellaError('RECORD_INVALID', `must be a string, got ${JSON.stringify(value[k] ?? null)}`, { file, path: jsonPath([k]) });
  }
  if (typeof value.mode !== 'string') throw new StellaError('RECORD_INVALID', 'must be a string naming the replay mode (pinned or what-if:…)', { file, path: '$.mode' });
  if (!isObj(value.executor)) throw new StellaError('RECORD_INVALID', 'must be an object describing the executor', { file, path: '$.executor' });
  return value as unknown as ReplayRecord;
}

/** The manifest the scanner of a replay saw: the pinned one under the overrides its `mode` names. */
function manifestUnderMode(m: ScanManifest, replay: ReplayRecord | null, file: string): ScanManifest {
  if (!replay) return m;
  try {
    return effectiveManifest(m, whatIfOfMode(replay.mode));
  } catch (e) {
    throw new StellaError('RECORD_INVALID', `unreadable replay mode: ${isStellaError(e) ? e.message : String(e)}`, { file, path: '$.mode' });
  }
}

function loadArtifact(dir: string, name: ArtifactName, entry: Outputs[ArtifactName]): RecordArtifact {
  const rel = ARTIFACT_PATHS[name];
  const file = requireFile(dir, rel, `the ${name} artifact`);
  // No link, regular, one hard link, inside the record: the rule every record reader shares.
  const bytes = readRecordFile(dir, rel, { file });
  const doc = parseJsonBytes(bytes, file);
  const schema = ARTIFACT_SCHEMAS[name];
  if (detectSchema(doc) !== schema) {
    const marker = SCHEMA_MARKER[name];
    const found = isObj(doc) ? doc[marker === '$["@context"]' ? '@context' : marker.slice(2)] : doc;
    throw new StellaError('SCHEMA_INVALID', `unknown artifact schema ${JSON.stringify(found ?? null)} (expected ${schema})`, { file, path: marker });
  }
  const raw = rawDigest(bytes);
  // outputs.json was written beside these exact bytes: when they still hash the same, its canonical
  // hash is trusted and the (costly) canonicalization is skipped; otherwise it is recomputed.
  let canonical: Digest;
  try {
    canonical = raw === entry.raw_sha256 ? entry.canonical_sha256 : canonicalArtifactDigest(schema, doc);
  } catch (e) {
    throw isStellaError(e) ? e.withFile(file) : e;
  }
  return { name, schema, path: rel, doc, canonical_sha256: canonical, raw_sha256: raw };
}

/** Read a scan or replay record directory. `dir` is used as given in error messages. */
export function loadRecord(dir: string): ScanRecord {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new StellaError('NOT_FOUND', 'no such directory', { file: dir });
  }
  if (!isDir) throw new StellaError('RECORD_INVALID', 'not a scan record: expected a directory holding manifest.json, outputs.json and artifacts/', { file: dir });
  const manifestFile = requireFile(dir, 'manifest.json', 'a scan record starts with its ScanManifest');
  const pinned = manifestFromValue(readJson(manifestFile), manifestFile);
  const replayFile = path.join(dir, 'replay.json');
  const replay = existsSync(replayFile) ? readReplayFile(replayFile) : null;
  const outputs = readOutputs(requireFile(dir, 'outputs.json', 'the artifact hashes'));
  const artifacts = {} as Record<ArtifactName, RecordArtifact>;
  for (const name of ARTIFACT_NAMES) artifacts[name] = loadArtifact(dir, name, outputs[name]);
  return { dir, manifest: manifestUnderMode(pinned, replay, replayFile), outputs, artifacts, replay };
}

/** The scan ids a record stands for: its own, and the original's when it is a replay. */
export function scanIdsOf(r: ScanRecord): string[] {
  return r.replay ? [r.manifest.scan_id, r.replay.original_scan_id, r.replay.replay_id] : [r.manifest.scan_id];
}

/** Refuse to compare records of two different scans (unless forced): the diff would be noise. */
export function assertRelated(a: ScanRecord, b: ScanRecord): void {
  const ida = new Set(scanIdsOf(a));
  if (scanIdsOf(b).some((id) => ida.has(id))) return;
  throw new StellaError(
    'RECORDS_UNRELATED',
    `records of different scans: ${a.manifest.scan_id} and ${b.manifest.scan_id} (neither is a replay of the other); pass --force to compare anyway`,
    { file: path.join(b.dir, 'manifest.json'), path: '$.scan_id' },
  );
}

/**
 * A record this process holds in memory (a replay that just ran), in the shape `loadRecord` gives:
 * the comparison runs on it without writing it and reading it back.
 */
export function recordFromMemory(
  dir: string,
  manifest: ScanManifest,
  outputs: Outputs,
  artifactBytes: Record<ArtifactName, Uint8Array>,
  replay: ReplayRecord | null,
): ScanRecord {
  const artifacts = {} as Record<ArtifactName, RecordArtifact>;
  for (const name of ARTIFACT_NAMES) {
    const rel = ARTIFACT_PATHS[name];
    const doc = parseJsonBytes(artifactBytes[name], path.join(dir, rel));
    artifacts[name] = { name, schema: ARTIFACT_SCHEMAS[name], path: rel, doc, canonical_sha256: outputs[name].canonical_sha256, raw_sha256: outputs[name].raw_sha256 };
  }
  return { dir, manifest, outputs, artifacts, replay };
}

const nodeFs: RecordFs = {
  mkdir: (dir) => mkdirSync(dir, { recursive: true }),
  writeFile: (file, data) => writeFileSync(file, data),
};

const jsonText = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/** What a record directory holds (SPEC §1.1); a scan record has no replay.json. */
export interface RecordFiles {
  /** manifest.json: the exact bytes (a replay keeps the original's, signature and all) or a manifest to write. */
  manifest: Uint8Array | ScanManifest;
  signature?: Uint8Array;
  artifacts?: Record<ArtifactName, Uint8Array>;
  outputs?: Outputs;
  replay?: ReplayRecord;
}

/** Write a record directory atomically, each file once: the one writer scan, replay, demo and canary share. */
export async function writeRecordDir(target: string, files: RecordFiles, fs: RecordFs = nodeFs): Promise<void> {
  await writeDirAtomic(target, (tmp) => {
    fs.writeFile(path.join(tmp, 'manifest.json'), files.manifest instanceof Uint8Array ? files.manifest : jsonText(files.manifest));
    if (files.signature) fs.writeFile(path.join(tmp, 'manifest.sig'), files.signature);
    if (files.artifacts) {
      fs.mkdir(path.join(tmp, 'artifacts'));
      for (const n of ARTIFACT_NAMES) fs.writeFile(path.join(tmp, ARTIFACT_PATHS[n]), files.artifacts[n]);
    }
    if (files.outputs) fs.writeFile(path.join(tmp, 'outputs.json'), jsonText(files.outputs));
    if (files.replay) fs.writeFile(path.join(tmp, 'replay.json'), jsonText(files.replay));
  });
}
