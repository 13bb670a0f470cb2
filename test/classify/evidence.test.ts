// The evidence the Diff screen opens on (issue 13, item 8), one case per cause, over real records built
// from fixtures/third_party (the juice-shop SBOM and the real OSV records that affect it): the facts
// come out of the two records (manifests, executor, artifacts) and the diff_summary the replay
// recorded, including the causes where SF and PF match.
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { MATCHED_IDS, allFeed, buildRecord, feedDigest, osvEntry, policyDigest, type Policy } from '../diff/records.js';
import { compareDirs, type CompareResult } from '../../src/app/compare.js';
import { loadRecord } from '../../src/app/record.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { canonicalBytes } from '../../src/core/canonical/index.js';
import { causeEvidence, type CauseEvidence, type EvidenceFact } from '../../src/core/classify/evidence.js';
import type { MismatchReason } from '../../src/core/formats.js';
import { evidenceLines, wrapText } from '../../components/diff-view/diff-lines.js';

const root = tempDir('stella-evidence-');
const dir = (name: string) => path.join(root, name);

/** The evidence as the workstation reads it: both records from disk, the replay's recorded cause and summary. */
function evidenceOf(res: CompareResult, over: { tag?: MismatchReason | null; warnings?: string[] } = {}): CauseEvidence {
  return causeEvidence({
    original: loadRecord(res.a.dir),
    replay: loadRecord(res.b.dir),
    recorded: {
      tag: over.tag === undefined ? res.classification.mismatch_reason : over.tag,
      auto: res.classification.mismatch_reason,
      subtags: res.classification.subtags,
      diff_summary: res.diff_summary,
      warnings: over.warnings ?? [],
    },
  });
}
const group = (e: CauseEvidence, title: string): EvidenceFact[] => e.groups.find((g) => g.title === title)?.facts ?? [];

describe('the evidence of each cause, from the two records', () => {
  test('feed_drift: the feed digests a -> b, and every flipped vulnerability with the feed record that explains it', async () => {
    const later = new Set(['GHSA-29mw-wpgm-hmr9', 'GHSA-qwph-4952-7xr6']);
    const older = MATCHED_IDS.filter((id) => !later.has(id)).map((id) => osvEntry(id));
    const newer = allFeed();
    const a = buildRecord(dir('feed-a'), { feed: older });
    const b = buildRecord(dir('feed-b'), { feed: newer, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:feed=${feedDigest(newer)}` } });
    const bundles = new Map([[feedDigest(older), older], [feedDigest(newer), newer]]);
    const res = await compareDirs(a.dir, b.dir, { resolveFeed: async (d) => bundles.get(d) ?? null });
    const e = evidenceOf(res);
    expect(e.cause).toBe('feed_drift');
    expect(group(e, 'What differs')).toEqual([{ label: 'feed bundle  $.feeds.vuln_feed_bundle_digest', a: feedDigest(older), b: feedDigest(newer) }]);
    const flips = group(e, 'In the outputs').filter((f) => f.label.startsWith('GHSA-'));
    expect(flips).toEqual([
      { label: 'GHSA-29mw-wpgm-hmr9 pkg:npm/lodash@2.4.2 appeared (feed: added GHSA-29mw-wpgm-hmr9)', a: '(absent)', b: expect.any(String) },
      { label: 'GHSA-qwph-4952-7xr6 pkg:npm/jsonwebtoken@0.1.0 appeared (feed: added GHSA-qwph-4952-7xr6)', a: '(absent)', b: expect.any(String) },
      { label: 'GHSA-qwph-4952-7xr6 pkg:npm/jsonwebtoken@0.4.0 appeared (feed: added GHSA-qwph-4952-7xr6)', a: '(absent)', b: expect.any(String) },
    ]);
    // The severity on the replay side is the finding's own.
    const sev = res.comparison.sf.vulnerabilities.appeared.find((x) => x.purl === 'pkg:npm/lodash@2.4.2')!.severity;
    expect(flips[0].b).toBe(sev);
    expect(group(e, 'In the outputs')[0]).toEqual({ label: expect.stringMatching(/^results: 3 vulnerabilities appeared/) });
  });

  test('policy_drift: the policy digests a -> b, the changed rule and the verdict with its reason codes', async () => {
    const blobs = new BlobStore(dir('home-policy'));
    const pass: Policy = { threshold: 'critical', fix_age_days: null };
    const high: Policy = { threshold: 'high', fix_age_days: null };
    blobs.put(canonicalBytes(pass));
    blobs.put(canonicalBytes(high));
    const feed = allFeed();
    const a = buildRecord(dir('policy-a'), { feed, policy: pass });
    const b = buildRecord(dir('policy-b'), { feed, policy: high, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:policy=${policyDigest(high)}` } });
    const e = evidenceOf(await compareDirs(a.dir, b.dir, { blobs }));
    expect(e.cause).toBe('policy_drift');
    expect(group(e, 'What differs')).toEqual([
      { label: 'policy bundle  $.policy.policy_bundle_digest', a: policyDigest(pass), b: policyDigest(high) },
      { label: 'policy rule $.threshold', a: 'critical', b: 'high' },
    ]);
    expect(group(e, 'In the outputs')).toContainEqual({ label: 'verdict', a: 'pass', b: 'fail (+SEV_HIGH)' });
  });

  test('scanner_drift with SF and PF matching: the image digest a -> b and what it changed in the outputs', async () => {
    const feed = allFeed();
    const other = `sha256:${'7e'.repeat(32)}`;
    const a = buildRecord(dir('scanner-a'), { feed });
    const b = buildRecord(dir('scanner-b'), {
      feed,
      pinnedManifest: a.manifest,
      replayOf: { scanId: a.manifest.scan_id, mode: `what-if:scanner=${other}`, executor: { image_digest: other } },
      sbom: (d) => ({ ...d, metadata: { ...(d.metadata as object), tools: { components: [{ type: 'application', name: 'stella', version: '0.2.0' }] } } }),
    });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.comparison.sf.match && res.comparison.pf.match).toBe(true);
    const e = evidenceOf(res);
    expect(e.cause).toBe('scanner_drift');
    expect(group(e, 'What differs')).toEqual([{ label: 'scanner image  $.scanner.scanner_image_digest', a: a.manifest.scanner.scanner_image_digest, b: other }]);
    expect(group(e, 'In the outputs').some((f) => f.label.startsWith('sbom $.metadata.tools') && f.b !== undefined && f.b.includes('0.2.0'))).toBe(true);
  });

  test('runtime_drift [tz]: tz UTC -> America/New_York, and the verdict the date rule changed', async () => {
    const feed = allFeed();
    // At 02:00Z it is still the day before in New York: the oldest fix is one day younger there.
    const clock = (m: { environment: { clock_value: string } }) => void (m.environment.clock_value = '2025-12-12T02:00:00Z');
    const published = feed.filter((x) => x.record.affected?.some((af) => af.ranges?.some((r) => r.events.some((ev) => ev.fixed)))).map((x) => x.record.published!.slice(0, 10)).sort();
    const n = (Date.parse('2025-12-12') - Date.parse(published[0])) / 86_400_000;
    const policy: Policy = { threshold: 'critical', fix_age_days: n - 1 };
    const a = buildRecord(dir('tz-a'), { feed, policy, faults: ['tz-date-rule'], manifest: clock });
    const b = buildRecord(dir('tz-b'), { feed, policy, faults: ['tz-date-rule'], manifest: clock, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, executor: { tz: 'America/New_York' } } });
    const res = await compareDirs(a.dir, b.dir, {});
    const e = evidenceOf(res);
    expect(e.cause).toBe('runtime_drift');
    expect(e.subtags).toEqual(['tz']);
    expect(e.headline).toBe('the replay ran in another environment (tz)');
    expect(group(e, 'What differs')).toEqual([{ label: 'time zone  executor tz', a: 'UTC', b: 'America/New_York' }]);
    expect(group(e, 'In the outputs')).toContainEqual({ label: 'verdict', a: 'fail (-FIX_AGE)', b: 'pass' });
  });

  test('runtime_drift: locale, cpus and clock each named with both values', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('env-a'), { feed });
    const b = buildRecord(dir('env-b'), {
      feed,
      pinnedManifest: a.manifest,
      replayOf: { scanId: a.manifest.scan_id, executor: { locale: 'de_DE.UTF-8', cpus: 8, clock_value: '2025-12-13T00:00:00Z' } },
      sbom: (d) => ({ ...d, metadata: { ...(d.metadata as object), timestamp: '2025-12-13T00:00:00Z' }, properties: [{ name: 'locale', value: 'de_DE.UTF-8' }] }),
    });
    const e = evidenceOf(await compareDirs(a.dir, b.dir, {}));
    expect(e.cause).toBe('runtime_drift');
    expect(group(e, 'What differs')).toEqual([
      { label: 'locale  executor locale', a: 'C', b: 'de_DE.UTF-8' },
      { label: 'clock  executor clock_value', a: '2025-12-12T23:30:00Z', b: '2025-12-13T00:00:00Z' },
      { label: 'cpus  executor cpus', a: '2', b: '8' },
    ]);
  });

  test('external_io: the network the original ran with, the executor the replay had, and the vulnerabilities that moved', async () => {
    const feed = allFeed();
    const online = (m: { environment: { network: string } }) => void (m.environment.network = 'enabled');
    const a = buildRecord(dir('io-a'), { feed, manifest: online });
    const b = buildRecord(dir('io-b'), { feed: feed.slice(2), manifest: online, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    const e = evidenceOf(res);
    expect(e.cause).toBe('external_io');
    expect(e.subtags).toEqual(['network']);
    expect(group(e, 'What differs')).toEqual([
      { label: 'original ran with the network enabled ($.environment.network)' },
      { label: "replay's manifest pins the network enabled ($.environment.network); its executor ran with network none" },
    ]);
    const gone = res.comparison.sf.vulnerabilities.disappeared;
    expect(gone.length).toBeGreaterThan(0);
    for (const v of gone) expect(group(e, 'In the outputs')).toContainEqual({ label: `${v.vulnerability_id} ${v.purl} disappeared`, a: v.severity, b: '(absent)' });
  });

  test('external_io [unpinned]: which side did not pin what', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('unpinned-a'), { feed: feed.slice(2), manifest: (m) => void (m.feeds.vuln_feed_bundle_digest = 'latest') });
    const b = buildRecord(dir('unpinned-b'), { feed, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const e = evidenceOf(await compareDirs(a.dir, b.dir, {}));
    expect(e.cause).toBe('external_io');
    expect(group(e, 'What differs')).toEqual([
      { label: 'original does not pin $.feeds.vuln_feed_bundle_digest (it says "latest"): whatever was current was read' },
      { label: 'replay does not pin $.feeds.vuln_feed_bundle_digest (it says "latest"): whatever was current was read' },
    ]);
  });

  test('nondeterminism [rng]: which fields look random, with their values on both sides', async () => {
    const feed = allFeed();
    const u1 = '9b2f0c1e-6d0a-4b8e-a3c1-5f7e2d9b4a61';
    const u2 = '0f6c3a7d-1e2b-4c5d-8e9f-a0b1c2d3e4f5';
    const a = buildRecord(dir('rng-a'), { feed, faults: ['random-ids'], entropy: u1 });
    const b = buildRecord(dir('rng-b'), { feed, faults: ['random-ids'], entropy: u2, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.comparison.sf.match && res.comparison.pf.match).toBe(true);
    const e = evidenceOf(res);
    expect(e.headline).toBe('the outputs differ with every pinned input equal: values that look random differ');
    expect(group(e, 'What differs')).toEqual([{ label: 'vex $["@id"]  looks random', a: `https://openvex.dev/docs/stella/vex-${u1}`, b: `https://openvex.dev/docs/stella/vex-${u2}` }]);
  });

  test('nondeterminism [time]: the timestamp and what it is near', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('time-a'), { feed, faults: ['wallclock'], entropy: '2026-01-05T09:00:01.123Z' });
    const b = buildRecord(dir('time-b'), { feed, faults: ['wallclock'], entropy: '2026-01-05T09:00:02.456Z', pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const e = evidenceOf(await compareDirs(a.dir, b.dir, {}));
    expect(group(e, 'What differs')).toEqual([{ label: 'sbom $.metadata.properties[0].value  a time, near the wall time', a: '2026-01-05T09:00:01.123Z', b: '2026-01-05T09:00:02.456Z' }]);
  });

  test('nondeterminism [ordering/concurrency]: the sequence that came out in another order', async () => {
    const feed = MATCHED_IDS.map((id) => (id === 'GHSA-35jh-r3h4-6jhm' ? osvEntry(id, (r) => ({ ...r, aliases: [...(r.aliases ?? []), 'GHSA-29mw-wpgm-hmr9'] })) : osvEntry(id)));
    const a = buildRecord(dir('order-a'), { feed, faults: ['unsorted-workers'], entropy: 'sorted' });
    const b = buildRecord(dir('order-b'), { feed, faults: ['unsorted-workers'], entropy: 'reversed', pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const res = await compareDirs(a.dir, b.dir, {});
    const e = evidenceOf(res);
    const i = (res.a.artifacts.findings.doc as { findings: Array<{ sources: unknown[] }> }).findings.findIndex((f) => f.sources.length === 2);
    expect(group(e, 'What differs')).toEqual([{ label: `findings $.findings[${i}].sources: the same items in another order (concurrency)` }]);
  });

  test('raw-order instability on a matching replay: raw sha256 a -> b while the canonical bytes are equal', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('raw-a'), { feed });
    // The same documents with the keys written in reverse order: other raw bytes, the same canonical ones.
    const reversed = (v: unknown): unknown => (Array.isArray(v) ? v.map(reversed) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v);
    const b = buildRecord(dir('raw-b'), { feed, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id }, write: (_n, d) => JSON.stringify(reversed(d)) });
    const res = await compareDirs(a.dir, b.dir, {});
    expect(res.comparison.bf.match).toBe(true);
    const e = evidenceOf(res, { warnings: ['unstable_raw_order'] });
    expect(e.cause).toBeNull();
    expect(e.headline).toBe('the replay matched its original, but the raw output order was not stable');
    const raw = group(e, 'Raw order');
    const ra = loadRecord(a.dir).artifacts;
    const rb = loadRecord(b.dir).artifacts;
    expect(raw).toContainEqual({ label: 'findings artifacts/findings.json: raw bytes differ, canonical bytes equal (raw sha256)', a: ra.findings.raw_sha256, b: rb.findings.raw_sha256 });
    expect(raw.filter((f) => f.a !== undefined)).toHaveLength(4);
    expect(raw).toContainEqual({ label: "replay warning unstable_raw_order: the scanner's raw output order is not stable" });
  });

  test('a human tag the records do not support: said so, then the classifier\'s own evidence', async () => {
    const feed = allFeed();
    const a = buildRecord(dir('human-a'), { feed, faults: ['random-ids'], entropy: 'aaaaaaaa-6d0a-4b8e-a3c1-5f7e2d9b4a61' });
    const b = buildRecord(dir('human-b'), { feed, faults: ['random-ids'], entropy: 'bbbbbbbb-1e2b-4c5d-8e9f-a0b1c2d3e4f5', pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
    const e = evidenceOf(await compareDirs(a.dir, b.dir, {}), { tag: 'runtime_drift' });
    expect(e.headline).toMatch(/^retagged runtime_drift \(the classifier said nondeterminism\): /);
    expect(e.groups.map((g) => g.title)).toEqual(['No runtime_drift evidence in the records', "What differs (the classifier's nondeterminism)"]);
    expect(group(e, "What differs (the classifier's nondeterminism)")[0].label).toBe('vex $["@id"]  looks random');
  });
});

describe('evidence on an 80-column screen', () => {
  test('wrapText cuts at spaces, hard-cuts a token longer than the line, loses no character', () => {
    const text = `fix available for 737 days since ${'x'.repeat(90)} and more`;
    const lines = wrapText(text, 40, '  ');
    expect(lines.every((l) => l.length <= 40)).toBe(true);
    expect(lines.map((l) => l.trim()).join(' ').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
  });

  test('every fact of every group is on a line of at most 77 columns, values whole (digests unbroken)', async () => {
    const feed = allFeed();
    const other = `sha256:${'7e'.repeat(32)}`;
    const a = buildRecord(dir('w-a'), { feed });
    const b = buildRecord(dir('w-b'), { feed, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:scanner=${other}`, executor: { image_digest: other, tz: 'America/New_York' } }, sbom: (d) => ({ ...d, metadata: { ...(d.metadata as object), tools: { components: [{ name: 'stella', version: '0.2.0' }] } } }) });
    const e = evidenceOf(await compareDirs(a.dir, b.dir, {}));
    const lines = evidenceLines({ kind: 'ready', evidence: e }, 80);
    const texts = lines.map((l) => ('text' in l ? l.text : ''));
    // The view draws a 2-column prefix and, for evidence, a 2-column mark before the text, in 79 columns.
    for (const l of lines) expect((l.kind === 'evidence' ? 4 : 2) + ('text' in l ? l.text : '').length).toBeLessThanOrEqual(79);
    expect(lines).toContainEqual({ kind: 'evidence', text: a.manifest.scanner.scanner_image_digest, mark: '-', change: false });
    expect(lines).toContainEqual({ kind: 'evidence', text: other, mark: '+', change: false });
    // Facts that fit stay on one line; the time zone is in "Also differs".
    expect(texts).toContain('time zone  executor tz: UTC -> America/New_York');
    expect(lines.some((l) => l.kind === 'head' && l.text === 'Also differs')).toBe(true);
  });
});
