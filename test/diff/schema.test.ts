// diff_summary v1 against its JSON Schema (src/core/diff/diff-summary.v1.schema.json), for summaries of
// every shape the scenarios produce; and the schema is strict enough to reject a broken one.
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { tempDir } from '../helpers/tmp.js';
import { REPO } from '../helpers/cli.js';
import { allFeed, buildRecord, feedDigest, policyDigest } from './records.js';
import { compareDirs } from '../../src/app/compare.js';
import type { DiffSummaryV1 } from '../../src/core/diff/index.js';

const schema = JSON.parse(readFileSync(path.join(REPO, 'src/core/diff/diff-summary.v1.schema.json'), 'utf8'));
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
const root = tempDir('stella-summary-');

async function summaries(): Promise<Record<string, DiffSummaryV1>> {
  const feed = allFeed();
  const a = buildRecord(path.join(root, 'a'), { feed: feed.slice(2) });
  const out: Record<string, DiffSummaryV1> = {};
  const same = buildRecord(path.join(root, 'same'), { feed: feed.slice(2), pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id } });
  out.match = (await compareDirs(a.dir, same.dir)).diff_summary;
  const f = buildRecord(path.join(root, 'feed'), { feed, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:feed=${feedDigest(feed)}` } });
  const bundles = new Map([[feedDigest(feed.slice(2)), feed.slice(2)], [feedDigest(feed), feed]]);
  out.feed = (await compareDirs(a.dir, f.dir, { resolveFeed: async (d) => bundles.get(d) ?? null })).diff_summary;
  const high = { threshold: 'high' as const, fix_age_days: null };
  const p = buildRecord(path.join(root, 'policy'), { feed: feed.slice(2), policy: high, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id, mode: `what-if:policy=${policyDigest(high)}` } });
  out.policy = (await compareDirs(a.dir, p.dir)).diff_summary;
  const w = buildRecord(path.join(root, 'wall'), { feed: feed.slice(2), faults: ['wallclock'], entropy: '2026-01-05T09:00:09Z' });
  const w2 = buildRecord(path.join(root, 'wall2'), { feed: feed.slice(2), faults: ['wallclock'], entropy: '2026-01-05T09:00:01Z', pinnedManifest: w.manifest, replayOf: { scanId: w.manifest.scan_id } });
  out.nondeterminism = (await compareDirs(w.dir, w2.dir)).diff_summary;
  return out;
}

describe('diff_summary v1', () => {
  test('every produced summary validates against the schema', async () => {
    const all = await summaries();
    for (const [name, s] of Object.entries(all)) {
      const ok = validate(s);
      expect({ name, errors: ok ? [] : validate.errors }).toEqual({ name, errors: [] });
    }
    expect(all.match.mismatch_reason).toBeNull();
    expect(all.feed.counts.vulnerabilities_appeared).toBeGreaterThan(0);
    // Each appeared vulnerability is an item that carries its feed evidence.
    const items = all.feed.items.filter((i) => i.kind === 'vulnerability');
    expect(items.length).toBe(all.feed.counts.vulnerabilities_appeared);
    for (const i of items) expect(i.evidence.some((e) => e.kind === 'feed_finding' && e.records.length === 1 && e.records[0].change === 'added')).toBe(true);
    expect(all.feed.top_vulnerabilities.length).toBeLessThanOrEqual(10);
    expect(all.policy.verdict_change?.a).toBe('pass');
    expect(all.nondeterminism.subtags).toEqual(['time']);
  });

  test('the schema rejects a summary with a wrong version, a missing section or an unknown cause', async () => {
    const { feed } = await summaries();
    expect(validate({ ...feed, diff_summary_version: 2 })).toBe(false);
    const { counts: _c, ...noCounts } = feed;
    void _c;
    expect(validate(noCounts)).toBe(false);
    expect(validate({ ...feed, mismatch_reason: 'cosmic_rays' })).toBe(false);
  });
});
