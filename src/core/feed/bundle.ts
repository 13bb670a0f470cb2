// Feed bundle layout and checks (SPEC §1.4), pure: which files a set of OSV records becomes, what the
// bundle manifest says, and whether an unpacked bundle agrees with its manifest. Tar, zstd and the
// filesystem live in src/adapters and src/app/feed.ts.
import { StellaError, jsonPath } from '../errors.js';
import { canonicalBytes, compareCodeUnits, sha256Digest } from '../canonical/jcs.js';
import { parseJsonBytes } from '../json/parse.js';
import type { Digest } from '../formats.js';
import { DIGEST_RE } from '../formats.js';
import type { OsvRecord, OsvRecordEntry } from '../feed/osv.js';

export const FEED_MANIFEST_PATH = 'feed_bundle_manifest.json';
export const FEED_BUNDLE_FORMAT = 1;

export interface FeedSource {
  name: string;
  url: string;
  retrieval: { commit: string } | { etag: string };
}

export interface FeedBundleManifest {
  bundle_format: 1;
  generated_at: string;
  generated_by: string;
  sources: FeedSource[];
  /** Bundle path → sha256 of the file's bytes. */
  files: Record<string, Digest>;
}

export interface FeedBundle {
  /** sha256 of the .tar.zst bytes: the only name a bundle has. */
  digest: Digest;
  manifest: FeedBundleManifest;
  records: OsvRecordEntry[];
}

/** A parsed source document before it is known to be OSV. */
export interface SourceDoc {
  /** Where it came from (relative to the source tree), for messages and tie-breaks. */
  file: string;
  doc: unknown;
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function isRfc3339(s: unknown): s is string {
  return typeof s === 'string' && RFC3339_RE.test(s) && !Number.isNaN(Date.parse(s));
}

/** An OSV record is recognised by content: an object with a string `id` and a string `modified`. */
export function isOsvRecord(doc: unknown): doc is OsvRecord {
  return (
    typeof doc === 'object' && doc !== null && !Array.isArray(doc) &&
    typeof (doc as { id?: unknown }).id === 'string' && typeof (doc as { modified?: unknown }).modified === 'string'
  );
}

/** Bundle source directory from the id prefix (SPEC §1.4). */
export function sourceOfId(id: string): 'ghsa' | 'go' | 'pypa' | 'other' {
  if (id.startsWith('GHSA-')) return 'ghsa';
  if (id.startsWith('GO-')) return 'go';
  if (id.startsWith('PYSEC-')) return 'pypa';
  return 'other';
}

/** One path segment from arbitrary text: only [A-Za-z0-9._-], never `.`/`..`/empty. */
export function pathSafe(s: string): string {
  const out = s.replace(/[^A-Za-z0-9._-]/g, '_');
  return out === '' || out === '.' || out === '..' ? `_${out}` : out;
}

export function recordPath(record: OsvRecord): string {
  const eco = record.affected?.find((a) => a.package?.ecosystem)?.package?.ecosystem ?? 'unknown';
  return `feeds/${sourceOfId(record.id)}/${pathSafe(eco)}/${pathSafe(record.id)}.json`;
}

function timeOf(s: string): number {
  const t = Date.parse(s);
  return Number.isNaN(t) ? -Infinity : t;
}

export interface FeedLayout {
  files: Array<{ path: string; data: Buffer }>;
  manifest: FeedBundleManifest;
  /** Source files whose id was already taken by another record (the kept one is named). */
  duplicates: Array<{ id: string; kept: string; dropped: string }>;
}

/**
 * Lay out records as bundle files. Order of `docs` does not matter: the result depends only on content.
 * Two source files with the same id (e.g. an upstream record and a linter test variant of it) cannot
 * both live at one path: the later `modified` wins, then the smaller canonical bytes, so the choice is
 * the same however the tree was walked.
 */
export function layoutFeed(
  docs: ReadonlyArray<SourceDoc>,
  opts: { generatedAt?: string; generatedBy: string; sources?: FeedSource[] },
): FeedLayout {
  type Cand = { file: string; record: OsvRecord; bytes: Buffer; path: string };
  const byPath = new Map<string, Cand[]>();
  for (const { file, doc } of docs) {
    if (!isOsvRecord(doc)) continue;
    const bytes = canonicalBytes(doc);
    const p = recordPath(doc);
    const list = byPath.get(p) ?? [];
    list.push({ file, record: doc, bytes, path: p });
    byPath.set(p, list);
  }
  if (byPath.size === 0) {
    throw new StellaError('INPUT_UNSUPPORTED', 'no OSV records found (files with an `id` and a `modified`); nothing to bundle');
  }
  const duplicates: FeedLayout['duplicates'] = [];
  const kept: Cand[] = [];
  for (const list of byPath.values()) {
    list.sort((a, b) => timeOf(b.record.modified) - timeOf(a.record.modified) || Buffer.compare(a.bytes, b.bytes) || compareCodeUnits(a.file, b.file));
    const [first, ...rest] = list as [Cand, ...Cand[]];
    for (const r of rest) {
      if (r.record.id !== first.record.id) {
        throw new StellaError('INPUT_UNSUPPORTED', `records '${first.record.id}' and '${r.record.id}' map to the same bundle path ${first.path}`, {
          file: r.file,
        });
      }
      duplicates.push({ id: first.record.id, kept: first.file, dropped: r.file });
    }
    kept.push(first);
  }
  kept.sort((a, b) => compareCodeUnits(a.path, b.path));
  duplicates.sort((a, b) => compareCodeUnits(a.id, b.id) || compareCodeUnits(a.dropped, b.dropped));

  let generatedAt = opts.generatedAt;
  if (generatedAt === undefined) {
    // Default: the newest `modified`, so the same tree always gives the same manifest bytes.
    generatedAt = kept.map((c) => c.record.modified).reduce((a, b) => (timeOf(b) > timeOf(a) || (timeOf(b) === timeOf(a) && b > a) ? b : a));
  }
  if (!isRfc3339(generatedAt)) {
    throw new StellaError('USAGE', `generated_at '${generatedAt}' is not an RFC 3339 timestamp (e.g. 2026-01-31T00:00:00Z)`);
  }
  const files: Record<string, Digest> = {};
  for (const c of kept) files[c.path] = sha256Digest(c.bytes);
  const sources = [...(opts.sources ?? [])].sort((a, b) => compareCodeUnits(a.name, b.name) || compareCodeUnits(a.url, b.url));
  const manifest: FeedBundleManifest = { bundle_format: 1, generated_at: generatedAt, generated_by: opts.generatedBy, sources, files };
  return {
    files: [...kept.map((c) => ({ path: c.path, data: c.bytes })), { path: FEED_MANIFEST_PATH, data: canonicalBytes(manifest) }],
    manifest,
    duplicates,
  };
}

function fail(file: string | undefined, segs: Array<string | number>, msg: string): never {
  throw new StellaError('SCHEMA_INVALID', msg, { file, path: jsonPath(segs) });
}

/** Validate a feed_bundle_manifest.json document. */
export function parseFeedManifest(doc: unknown, file?: string): FeedBundleManifest {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail(file, [], 'bundle manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  if (m.bundle_format !== FEED_BUNDLE_FORMAT) fail(file, ['bundle_format'], `unsupported bundle_format ${JSON.stringify(m.bundle_format)} (this stella reads 1)`);
  if (!isRfc3339(m.generated_at)) fail(file, ['generated_at'], 'generated_at must be an RFC 3339 timestamp');
  if (typeof m.generated_by !== 'string') fail(file, ['generated_by'], 'generated_by must be a string');
  if (!Array.isArray(m.sources)) fail(file, ['sources'], 'sources must be an array');
  m.sources.forEach((s: unknown, i: number) => {
    const o = s as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || typeof o.url !== 'string') fail(file, ['sources', i], 'a source needs a string name and url');
    const r = o.retrieval as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || (typeof r.commit !== 'string' && typeof r.etag !== 'string')) {
      fail(file, ['sources', i, 'retrieval'], 'retrieval needs a commit or an etag');
    }
  });
  if (typeof m.files !== 'object' || m.files === null || Array.isArray(m.files)) fail(file, ['files'], 'files must be an object of path → sha256');
  for (const [p, d] of Object.entries(m.files as Record<string, unknown>)) {
    if (typeof d !== 'string' || !DIGEST_RE.test(d)) fail(file, ['files', p], 'expected a sha256: digest');
  }
  return doc as FeedBundleManifest;
}

/**
 * Check unpacked bundle entries against the bundle manifest and parse the records. Every entry must be
 * listed with a matching sha256 and every listed file present: a bundle is all or nothing.
 */
export function readFeedEntries(
  entries: ReadonlyArray<{ path: string; data: Uint8Array }>,
  digest: Digest,
  file?: string,
): FeedBundle {
  const manifestEntry = entries.find((e) => e.path === FEED_MANIFEST_PATH);
  if (!manifestEntry) throw new StellaError('BUNDLE_UNSAFE', `bundle has no ${FEED_MANIFEST_PATH}; not a feed bundle`, { file });
  const c = new FeedEntryChecker(digest, file);
  c.add(manifestEntry);
  for (const e of entries) if (e !== manifestEntry) c.add(e);
  return c.finish();
}

/** Entries that may arrive before the manifest (a stella bundle has it first: it sorts first). */
const EARLY_ENTRIES_MAX = 64;
const EARLY_BYTES_MAX = 64 * 1024 * 1024;

/**
 * The same checks one entry at a time, as a stream hands them over: each entry is checked (listed,
 * sha256, OSV JSON) and parsed as it arrives and its bytes dropped, so a bundle of junk fails at its
 * first bad entry and memory holds records, not the unpacked tar.
 */
export class FeedEntryChecker {
  private manifest: FeedBundleManifest | null = null;
  private listed = new Set<string>();
  private early: Array<{ path: string; data: Uint8Array }> = [];
  private earlyBytes = 0;
  private records: OsvRecordEntry[] = [];
  private manifestBytes: Uint8Array | null = null;

  constructor(
    private readonly digest: Digest,
    private readonly file?: string,
  ) {}

  add(e: { path: string; data: Uint8Array }): void {
    const { file, digest } = this;
    if (e.path === FEED_MANIFEST_PATH) {
      // Parsed when the next entry arrives (or at the end), so the tar's own checks of that entry's
      // header come first, as when the whole tar was unpacked before the manifest was read.
      this.manifestBytes = e.data;
      return;
    }
    this.readManifest();
    if (!this.manifest) {
      this.earlyBytes += e.data.length;
      if (this.early.length >= EARLY_ENTRIES_MAX || this.earlyBytes > EARLY_BYTES_MAX) {
        throw new StellaError('BUNDLE_UNSAFE', `bundle holds more than ${EARLY_ENTRIES_MAX} entries or ${EARLY_BYTES_MAX} bytes before ${FEED_MANIFEST_PATH}; not a feed bundle stella wrote`, { file });
      }
      this.early.push(e);
      return;
    }
    const expected = this.manifest.files[e.path];
    if (!this.listed.has(e.path) || expected === undefined) {
      throw new StellaError('BUNDLE_DIGEST_MISMATCH', `bundle entry '${e.path}' is not listed in ${FEED_MANIFEST_PATH}`, { file });
    }
    this.listed.delete(e.path);
    const actual = sha256Digest(e.data);
    if (actual !== expected) {
      throw new StellaError('BUNDLE_DIGEST_MISMATCH', `bundle entry '${e.path}' has sha256 ${actual} but the manifest says ${expected} (digest mismatch)`, { file });
    }
    const entryFile = `${file ?? digest}!${e.path}`;
    const record = parseJsonBytes(e.data, entryFile);
    if (!isOsvRecord(record)) fail(entryFile, ['id'], 'not an OSV record (needs string id and modified)');
    this.records.push({ path: e.path, sha256: actual, record });
  }

  private readManifest(): void {
    if (this.manifestBytes === null) return;
    const { file, digest } = this;
    const where = `${file ?? digest}!${FEED_MANIFEST_PATH}`;
    const bytes = this.manifestBytes;
    this.manifestBytes = null;
    this.manifest = parseFeedManifest(parseJsonBytes(bytes, where), where);
    this.listed = new Set(Object.keys(this.manifest.files));
    const early = this.early;
    this.early = [];
    for (const x of early) this.add(x);
  }

  finish(): FeedBundle {
    this.readManifest();
    const { file } = this;
    if (!this.manifest) throw new StellaError('BUNDLE_UNSAFE', `bundle has no ${FEED_MANIFEST_PATH}; not a feed bundle`, { file });
    const missing = [...this.listed].sort(compareCodeUnits)[0];
    if (missing !== undefined) {
      throw new StellaError('BUNDLE_DIGEST_MISMATCH', `${FEED_MANIFEST_PATH} lists '${missing}' but the bundle does not contain it`, { file });
    }
    const records = this.records.sort((a, b) => compareCodeUnits(a.path, b.path));
    return { digest: this.digest, manifest: this.manifest, records };
  }
}

export interface FeedDiff {
  added: string[];
  removed: string[];
  modified: string[];
}

/** Which record ids were added, removed or changed (same id, other bytes) from a to b; each sorted. */
export function diffFeedRecords(a: ReadonlyArray<OsvRecordEntry>, b: ReadonlyArray<OsvRecordEntry>): FeedDiff {
  const index = (list: ReadonlyArray<OsvRecordEntry>) => new Map(list.map((e) => [e.record.id, e.sha256]));
  const before = index(a);
  const after = index(b);
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (const [id, sha] of after) {
    const old = before.get(id);
    if (old === undefined) added.push(id);
    else if (old !== sha) modified.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) removed.push(id);
  return { added: added.sort(compareCodeUnits), removed: removed.sort(compareCodeUnits), modified: modified.sort(compareCodeUnits) };
}
