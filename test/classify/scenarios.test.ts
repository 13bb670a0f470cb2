// One scenario per cause class of SPEC §4, built from real data (juice-shop SBOM + the real OSV records
// that affect it). The classifier's output is asserted in full.
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { MATCHED_IDS, allFeed, buildRecord, feedDigest, osvEntry, policyDigest, type Policy } from '../diff/records.js';
import { compareDirs } from '../../src/app/compare.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { canonicalBytes } from '../../src/core/canonical/index.js';
import { CLASSIFIER_VERSION, classify } from '../../src/core/classify/index.js';
import { compareRecords } from '../../src/core/diff/index.js';
import { loadRecord } from '../../src/app/record.js';
import { buildFeedBundle, openFeedBundle } from '../../src/app/feed.js';
import { copyFileSync, mkdirSync } from 'node:fs';
import { THIRD_PARTY } from '../helpers/cli.js';

const root = tempDir('stella-classify-');
const dir = (name: string) => path.join(root, name);
const PASS_POLICY: Policy = { threshold: 'critical', fix_age_days: null };

describe('cause classification, one scenario per class', () => {
  test('(a) an older OSV subset vs a newer one → feed_drift naming exactly the records that flipped findings', async () => {
    // Older bundle: three records not yet published, one still at its earlier (LOW) severity.
    const later = new Set(['GHSA-29mw-wpgm-hmr9', 'GHSA-qwph-4952-7xr6', 'GHSA-r7qp-cfhv-p84w']);
    const older = MATCHED_IDS.filter((id) => !later.has(id)).map((id) => osvEntry(id));
    older.push(osvEntry('GHSA-r7qp-cfhv-p84w', (r) => ({ ...r, modified: '2021-01-01T00:00:00Z', database_specific: { ...(r.database_specific as object), severity: 'LOW' } })));
    // Newer bundle also adds a record that affects nothing in this SBOM: it must not show up as evidence.
    const newer = [...allFeed(), osvEntry('GHSA-57j2-w4cx-62h2')];
    const policy: Policy = { threshold: 'high', fix_age_days: null };
    const a = buildRecord(dir('a-orig'), { feed: older, policy });
    const b = buildRecord(dir('a-replay'), { feed: newer, policy, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:feed=${feedDigest(newer)}` } });
    const bundles = new Map([[feedDigest(older), older], [feedDigest(newer), newer]]);
    const res = await compareDirs(a.dir, b.dir, { resolveFeed: async (d) => bundles.get(d) ?? null });
    const rec = (id: string, change: string) => ({ id, change, path: `feeds/ghsa/npm/${id}.json` });
    expect(res.classification).toEqual({
      mismatch_reason: 'feed_drift',
      subtags: [],
      evidence: [
        { kind: 'manifest_field', path: '$.feeds.vuln_feed_bundle_digest', a: feedDigest(older), b: feedDigest(newer) },
        { kind: 'feed_finding', vulnerability_id: 'GHSA-29mw-wpgm-hmr9', purl: 'pkg:npm/lodash@2.4.2', change: 'appeared', records: [rec('GHSA-29mw-wpgm-hmr9', 'added')] },
        { kind: 'feed_finding', vulnerability_id: 'GHSA-qwph-4952-7xr6', purl: 'pkg:npm/jsonwebtoken@0.1.0', change: 'appeared', records: [rec('GHSA-qwph-4952-7xr6', 'added')] },
        { kind: 'feed_finding', vulnerability_id: 'GHSA-qwph-4952-7xr6', purl: 'pkg:npm/jsonwebtoken@0.4.0', change: 'appeared', records: [rec('GHSA-qwph-4952-7xr6', 'added')] },
        { kind: 'feed_finding', vulnerability_id: 'GHSA-r7qp-cfhv-p84w', purl: 'pkg:npm/engine.io@4.1.2', change: 'severity_changed', records: [rec('GHSA-r7qp-cfhv-p84w', 'modified')] },
      ],
      classifier_version: CLASSIFIER_VERSION,
    });
    expect(res.comparison.sf.vulnerabilities.severity_changed).toEqual([{ vulnerability_id: 'GHSA-r7qp-cfhv-p84w', purl: 'pkg:npm/engine.io@4.1.2', a: 'low', b: 'high' }]);
  });

  test('(a″) real feed bundles (.tar.zst) from the blob store → the same exact record ids', async () => {
    const blobs = new BlobStore(dir('home-a3'));
    const bundle = async (name: string, ids: string[]) => {
      const src = dir(name);
      mkdirSync(src, { recursive: true });
      for (const id of ids) copyFileSync(path.join(THIRD_PARTY, 'osv/ghsa', `${id}.json`), path.join(src, `${id}.json`));
      const built = await buildFeedBundle(src, { generatedAt: '2025-12-01T00:00:00Z' });
      blobs.put(built.bytes);
      return openFeedBundle(built.bytes);
    };
    const older = await bundle('feed-older', MATCHED_IDS.filter((id) => id !== 'GHSA-pxg6-pf52-xh8x'));
    const newer = await bundle('feed-newer', MATCHED_IDS);
    const a = buildRecord(dir('a3-orig'), { feed: older.records, manifest: (m) => void (m.feeds.vuln_feed_bundle_digest = older.digest) });
    const b = buildRecord(dir('a3-replay'), { feed: newer.records, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:feed=${newer.digest}` } });
    const res = await compareDirs(a.dir, b.dir, { blobs });
    const path_ = newer.records.find((e) => e.record.id === 'GHSA-pxg6-pf52-xh8x')!.path;
    expect(res.classification).toEqual({
      mismatch_reason: 'feed_drift',
      subtags: [],
      evidence: [
        { kind: 'manifest_field', path: '$.feeds.vuln_feed_bundle_digest', a: older.digest, b: newer.digest },
        { kind: 'feed_finding', vulnerability_id: 'GHSA-pxg6-pf52-xh8x', purl: 'pkg:npm/cookie@0.4.1', change: 'appeared', records: [{ id: 'GHSA-pxg6-pf52-xh8x', change: 'added', path: path_ }] },
        { kind: 'feed_finding', vulnerability_id: 'GHSA-pxg6-pf52-xh8x', purl: 'pkg:npm/cookie@0.6.0', change: 'appeared', records: [{ id: 'GHSA-pxg6-pf52-xh8x', change: 'added', path: path_ }] },
      ],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(a′) feed bundles missing from the blob store → still feed_drift, evidence says they were unavailable', async () => {
    const older = allFeed().slice(1);
    const a = buildRecord(dir('a2-orig'), { feed: older });
    const b = buildRecord(dir('a2-replay'), { feed: allFeed(), pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:feed=${feedDigest(allFeed())}` } });
    const res = await compareDirs(a.dir, b.dir, { blobs: new BlobStore(dir('empty-home')) });
    expect(res.classification).toEqual({
      mismatch_reason: 'feed_drift',
      subtags: [],
      evidence: [
        { kind: 'manifest_field', path: '$.feeds.vuln_feed_bundle_digest', a: feedDigest(older), b: feedDigest(allFeed()) },
        { kind: 'feed_unavailable', side: 'a', digest: feedDigest(older) },
        { kind: 'feed_unavailable', side: 'b', digest: feedDigest(allFeed()) },
      ],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(b) a policy threshold change → policy_drift, PF mismatch, the reason codes and the changed rule', async () => {
    const blobs = new BlobStore(dir('home-b'));
    const high: Policy = { threshold: 'high', fix_age_days: null };
    blobs.put(canonicalBytes(PASS_POLICY));
    blobs.put(canonicalBytes(high));
    const feed = allFeed();
    const a = buildRecord(dir('b-orig'), { feed, policy: PASS_POLICY });
    const b = buildRecord(dir('b-replay'), { feed, policy: high, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:policy=${policyDigest(high)}` } });
    const res = await compareDirs(a.dir, b.dir, { blobs });
    expect(res.comparison.bf.match).toBe(false);
    expect(res.comparison.pf).toEqual({ match: false, decision: { a: 'pass', b: 'fail' }, reasons: { added: ['SEV_HIGH'], removed: [] } });
    expect(res.classification).toEqual({
      mismatch_reason: 'policy_drift',
      subtags: [],
      evidence: [
        { kind: 'manifest_field', path: '$.policy.policy_bundle_digest', a: policyDigest(PASS_POLICY), b: policyDigest(high) },
        { kind: 'policy_rule', path: '$.threshold', before: 'critical', after: 'high' },
        { kind: 'verdict_change', a: 'pass', b: 'fail', codes_added: ['SEV_HIGH'], codes_removed: [] },
      ],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(c) a scanner flag change → scanner_drift', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('c-a'), { feed });
    const b = buildRecord(dir('c-b'), {
      feed,
      manifest: (m) => void (m.scanner.flags = ['--exclude-group=@babel']),
      sbom: (d) => ({ ...d, components: (d.components as Array<{ group?: string }>).filter((x) => x.group !== '@babel') }),
    });
    // Different flags make a different scan: comparing them is a deliberate --force.
    const res = await compareDirs(a.dir, b.dir, { force: true });
    expect(res.classification).toEqual({
      mismatch_reason: 'scanner_drift',
      subtags: [],
      evidence: [{ kind: 'manifest_field', path: '$.scanner.flags', a: [], b: ['--exclude-group=@babel'] }],
      classifier_version: CLASSIFIER_VERSION,
    });
    expect(res.comparison.sf.packages.removed.length).toBeGreaterThan(0);
    expect(res.comparison.sf.packages.removed.every((p) => p.key.startsWith('pkg:npm/%40babel/'))).toBe(true);
  });

  test('(d) a TZ change with a date-based rule → runtime_drift', async () => {
    const feed = allFeed();
    // The oldest fix in the feed is exactly N days old on the scan date in UTC (not > N: pass); in
    // Pacific/Kiritimati (UTC+14) the 23:30Z clock is already the next day, so it is N+1 > N: fail.
    const published = feed.filter((e) => e.record.affected?.some((a) => a.ranges?.some((r) => r.events.some((ev) => ev.fixed)))).map((e) => e.record.published!.slice(0, 10)).sort();
    const n = (Date.parse('2025-12-12') - Date.parse(published[0])) / 86_400_000;
    const policy: Policy = { threshold: 'critical', fix_age_days: n };
    const a = buildRecord(dir('d-orig'), { feed, policy, faults: ['tz-date-rule'] });
    const b = buildRecord(dir('d-replay'), { feed, policy, faults: ['tz-date-rule'], pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, executor: { tz: 'Pacific/Kiritimati' } } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification).toEqual({
      mismatch_reason: 'runtime_drift',
      subtags: ['tz'],
      evidence: [
        { kind: 'executor_field', field: 'tz', a: 'UTC', b: 'Pacific/Kiritimati' },
        { kind: 'verdict_change', a: 'pass', b: 'fail', codes_added: ['FIX_AGE'], codes_removed: [] },
      ],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(e) unsorted-workers → nondeterminism [concurrency]: aliased records reported in race order', async () => {
    // GHSA-35jh… names GHSA-29mw… as an alias here, so both merge into one lodash finding with two sources.
    const feed = MATCHED_IDS.map((id) => (id === 'GHSA-35jh-r3h4-6jhm' ? osvEntry(id, (r) => ({ ...r, aliases: [...(r.aliases ?? []), 'GHSA-29mw-wpgm-hmr9'] })) : osvEntry(id)));
    const a = buildRecord(dir('e1-orig'), { feed, faults: ['unsorted-workers'], entropy: 'sorted' });
    const b = buildRecord(dir('e1-replay'), { feed, faults: ['unsorted-workers'], entropy: 'reversed', pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    const i = (res.a.artifacts.findings.doc as { findings: Array<{ sources: unknown[] }> }).findings.findIndex((f) => f.sources.length === 2);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(res.comparison.sf.match).toBe(true);
    expect(res.classification).toEqual({
      mismatch_reason: 'nondeterminism',
      subtags: ['concurrency'],
      evidence: [{ kind: 'permutation', artifact: 'findings', path: `$.findings[${i}].sources`, subtag: 'concurrency' }],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(e) repeated replays under different CPU counts with different outputs → concurrency', () => {
    const feed = allFeed();
    const a = loadRecord(buildRecord(dir('e2-a'), { feed, faults: ['wallclock'], entropy: '2026-01-05T09:00:01.000Z' }).dir);
    const b = loadRecord(buildRecord(dir('e2-b'), { feed, faults: ['wallclock'], entropy: '2026-01-05T09:00:01.000Z', pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } }).dir);
    // a and b happen to match; the repeats do not, and they ran with 1 and 4 CPUs.
    const bfDiff = compareRecords(a, b);
    bfDiff.bf.match = false;
    bfDiff.bf.artifacts[1] = { ...bfDiff.bf.artifacts[1], canonical_equal: true };
    const runs = [
      { cpus: 4, digests: { findings: 'sha256:' + 'b'.repeat(64) } },
      { cpus: 1, digests: { findings: 'sha256:' + 'a'.repeat(64) } },
    ];
    expect(classify({ a, b, comparison: bfDiff, repeats: runs })).toEqual({
      mismatch_reason: 'nondeterminism',
      subtags: ['concurrency'],
      evidence: [{ kind: 'repeats', runs: [runs[1], runs[0]] }],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(e) wallclock → nondeterminism [time], near the wall time of the replay', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('e3-orig'), { feed, faults: ['wallclock'], entropy: '2026-01-05T09:00:01.123Z' });
    const b = buildRecord(dir('e3-replay'), { feed, faults: ['wallclock'], entropy: '2026-01-05T09:00:02.456Z', pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification).toEqual({
      mismatch_reason: 'nondeterminism',
      subtags: ['time'],
      evidence: [{ kind: 'artifact_value', artifact: 'sbom', path: '$.metadata.properties[0].value', a: '2026-01-05T09:00:01.123Z', b: '2026-01-05T09:00:02.456Z', subtag: 'time', near: 'wall_time' }],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(e) random-ids → nondeterminism [rng]', async () => {
    const feed = allFeed();
    const u1 = '9b2f0c1e-6d0a-4b8e-a3c1-5f7e2d9b4a61';
    const u2 = '0f6c3a7d-1e2b-4c5d-8e9f-a0b1c2d3e4f5';
    const a = buildRecord(dir('e4-orig'), { feed, faults: ['random-ids'], entropy: u1 });
    const b = buildRecord(dir('e4-replay'), { feed, faults: ['random-ids'], entropy: u2, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification).toEqual({
      mismatch_reason: 'nondeterminism',
      subtags: ['rng'],
      evidence: [{ kind: 'artifact_value', artifact: 'vex', path: '$["@id"]', a: `https://openvex.dev/docs/stella/vex-${u1}`, b: `https://openvex.dev/docs/stella/vex-${u2}`, subtag: 'rng' }],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('(e) tz-date-rule with the TZ unchanged and the clock unchanged → no mismatch at all', async () => {
    const feed = allFeed();
    const policy: Policy = { threshold: 'critical', fix_age_days: 30 };
    const a = buildRecord(dir('e5-orig'), { feed, policy, faults: ['tz-date-rule'] });
    const b = buildRecord(dir('e5-replay'), { feed, policy, faults: ['tz-date-rule'], pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification).toEqual({ mismatch_reason: null, subtags: [], evidence: [], classifier_version: CLASSIFIER_VERSION });
  });

  test('(e) results differ with every input equal → nondeterminism [unknown] with what changed', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('e6-orig'), { feed });
    const b = buildRecord(dir('e6-replay'), {
      feed,
      pinnedManifest: a.manifest,
      replayOf: { scanId: a.manifest.scan_id },
      sbom: (d) => ({ ...d, components: (d.components as Array<{ name?: string }>).filter((c) => c.name !== 'helper-string-parser') }),
    });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification).toEqual({
      mismatch_reason: 'nondeterminism',
      subtags: ['unknown'],
      evidence: [{ kind: 'semantic_change', artifact: 'sbom', counts: { packages_removed: 1 } }],
      classifier_version: CLASSIFIER_VERSION,
    });
    expect(res.comparison.sf.packages.removed).toEqual([{ key: 'pkg:npm/%40babel/helper-string-parser', versions: ['7.24.7'] }]);
  });

  test('(f) an unpinned feed ("latest") that moved → external_io', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('f-orig'), { feed: feed.slice(2), manifest: (m) => void (m.feeds.vuln_feed_bundle_digest = 'latest') });
    const b = buildRecord(dir('f-replay'), { feed, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification).toEqual({
      mismatch_reason: 'external_io',
      subtags: ['unpinned'],
      evidence: [
        { kind: 'unpinned', side: 'a', path: '$.feeds.vuln_feed_bundle_digest', value: 'latest' },
        { kind: 'unpinned', side: 'b', path: '$.feeds.vuln_feed_bundle_digest', value: 'latest' },
      ],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('first match wins: a feed change and a policy change together → feed_drift', async () => {
    const high: Policy = { threshold: 'high', fix_age_days: null };
    const a = buildRecord(dir('o-orig'), { feed: allFeed().slice(1), policy: PASS_POLICY });
    const b = buildRecord(dir('o-replay'), { feed: allFeed(), policy: high, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:feed=${feedDigest(allFeed())},policy=${policyDigest(high)}` } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.classification.mismatch_reason).toBe('feed_drift');
  });
});
