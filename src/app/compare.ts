// `compareDirs`: load two records, compare them, resolve the feed bundles and policies their manifests
// pin (from the blob store, when there) for evidence, classify, and summarize. IO happens here once;
// everything after loading is the pure core.
import type { ReplayRecord } from '../core/formats.js';
import { DIGEST_RE } from '../core/formats.js';
import type { OsvRecordEntry } from '../scanner/types.js';
import { StellaError } from '../core/errors.js';
import { parseJsonBytes } from '../core/json/parse.js';
import { buildDiffSummary, compareRecords, diffLeaves, type Comparison, type DiffSummaryV1, type ScanRecord } from '../core/diff/index.js';
import { classify, diffFeedEntries, type Classification, type ClassifyInput, type FeedInput, type PolicyInput, type Side } from '../core/classify/index.js';
import type { BlobStorePort } from '../core/ports.js';
import { assertRelated, loadRecord } from './record.js';
import { resolveFeedRef } from './feed.js';

/** Reads a feed bundle's OSV records by digest; null when the bundle is not available. */
export type FeedResolver = (digest: string) => Promise<OsvRecordEntry[] | null>;

export interface CompareOptions {
  blobs?: BlobStorePort | null;
  /** Compare records of different scans anyway. */
  force?: boolean;
  /** Override how feed bundles are read (default: `resolveFeedRef` over `blobs`). */
  resolveFeed?: FeedResolver;
  repeats?: ClassifyInput['repeats'];
}

export interface CompareResult {
  a: ScanRecord;
  b: ScanRecord;
  comparison: Comparison;
  classification: Classification;
  diff_summary: DiffSummaryV1;
}

/** The replay.json fields a comparison decides (SPEC §4): levels, cause, sub-tags, summary, classifier. */
export function classifiedFields(r: CompareResult): Pick<
  ReplayRecord,
  'bf_match' | 'sf_match' | 'pf_match' | 'mismatch_reason' | 'subtags' | 'diff_summary' | 'classifier_version'
> {
  return {
    bf_match: r.comparison.bf.match,
    sf_match: r.comparison.sf.match,
    pf_match: r.comparison.pf.match,
    mismatch_reason: r.classification.mismatch_reason,
    subtags: r.classification.subtags,
    diff_summary: r.diff_summary,
    classifier_version: r.classification.classifier_version,
  };
}

/** Feed bundles by digest from the blob store; a missing or unreadable bundle is "unavailable" evidence. */
function blobFeedResolver(blobs: BlobStorePort | null | undefined): FeedResolver {
  return async (digest) => {
    if (!blobs || !DIGEST_RE.test(digest) || !blobs.has(digest)) return null;
    try {
      return (await resolveFeedRef(digest, blobs)).records;
    } catch {
      return null;
    }
  };
}

async function feedInput(a: ScanRecord, b: ScanRecord, resolve: FeedResolver): Promise<FeedInput | undefined> {
  const da = a.manifest.feeds.vuln_feed_bundle_digest;
  const db = b.manifest.feeds.vuln_feed_bundle_digest;
  if (da === db) return undefined;
  const [ra, rb] = await Promise.all([resolve(da), resolve(db)]);
  if (ra && rb) return { kind: 'diff', diff: diffFeedEntries(ra, rb) };
  const sides: Array<{ side: Side; digest: string }> = [];
  if (!ra) sides.push({ side: 'a', digest: da });
  if (!rb) sides.push({ side: 'b', digest: db });
  return { kind: 'unavailable', sides };
}

/** A policy bundle is canonical JSON stored by digest (SPEC §1.5): the changed rules are its leaf diff. */
function policyInput(a: ScanRecord, b: ScanRecord, blobs: BlobStorePort | null | undefined): PolicyInput | undefined {
  const da = a.manifest.policy.policy_bundle_digest;
  const db = b.manifest.policy.policy_bundle_digest;
  if (da === db) return undefined;
  const read = (d: string): unknown => {
    if (!blobs || !DIGEST_RE.test(d) || !blobs.has(d)) return undefined;
    try {
      return parseJsonBytes(blobs.get(d), d);
    } catch {
      return undefined;
    }
  };
  const pa = read(da);
  const pb = read(db);
  if (pa !== undefined && pb !== undefined) {
    return { kind: 'diff', rules: diffLeaves(pa, pb).map((d) => (d.kind === 'value' ? { path: d.path, before: d.before, after: d.after } : { path: d.path, before: 'order', after: 'order' })) };
  }
  const sides: Array<{ side: Side; digest: string }> = [];
  if (pa === undefined) sides.push({ side: 'a', digest: da });
  if (pb === undefined) sides.push({ side: 'b', digest: db });
  return { kind: 'unavailable', sides };
}

/** Compare two already-loaded records (used by replay and the workstation as well as the CLI). */
export async function compareLoaded(a: ScanRecord, b: ScanRecord, opts: CompareOptions = {}): Promise<CompareResult> {
  if (!opts.force) assertRelated(a, b);
  const comparison = compareRecords(a, b);
  let feed: FeedInput | undefined;
  let policy: PolicyInput | undefined;
  if (!comparison.bf.match) {
    feed = await feedInput(a, b, opts.resolveFeed ?? blobFeedResolver(opts.blobs));
    policy = policyInput(a, b, opts.blobs);
  }
  const classification = classify({ a, b, comparison, feed, policy, repeats: opts.repeats });
  return { a, b, comparison, classification, diff_summary: buildDiffSummary(comparison, classification) };
}

export async function compareDirs(aDir: string, bDir: string, opts: CompareOptions = {}): Promise<CompareResult> {
  if (!aDir || !bDir) throw new StellaError('USAGE', 'two record directories are needed');
  return compareLoaded(loadRecord(aDir), loadRecord(bDir), opts);
}
