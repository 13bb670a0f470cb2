// Deterministic workstation data from real fixtures: advisory ids and packages from the OSV GHSA
// fixtures, project names from the lockfile fixtures, inserted through the store's own ingest API.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MISMATCH_REASONS, type MismatchReason, type ReplayStatus } from '../../src/core/formats.js';
import type { ReplayIn, ScanIn, SqliteStore } from '../../store/sqlite-store.js';
import { THIRD_PARTY } from '../helpers/cli.js';

export interface Advisory {
  id: string;
  pkg: string;
  ecosystem: string;
  aliases: string[];
}

export function advisories(): Advisory[] {
  const dir = path.join(THIRD_PARTY, 'osv/ghsa');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const doc = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { id: string; aliases?: string[]; affected?: Array<{ package?: { name?: string; ecosystem?: string } }> };
      const p = doc.affected?.[0]?.package ?? {};
      return { id: doc.id, pkg: p.name ?? 'unknown', ecosystem: (p.ecosystem ?? 'npm').toLowerCase(), aliases: doc.aliases ?? [] };
    });
}

export function projects(): string[] {
  const root = path.join(THIRD_PARTY, 'lockfiles');
  return readdirSync(root)
    .sort()
    .flatMap((eco) => readdirSync(path.join(root, eco)).sort());
}

const h = (s: string): number => createHash('sha256').update(s).digest().readUInt32BE(0);
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** `n` replays, one scan each; every 3rd fails with a cause, every 17th is an error. */
export async function seed(store: SqliteStore, n: number, baseDay = Date.UTC(2026, 10, 20)): Promise<{ ids: string[]; failing: string[] }> {
  const adv = advisories();
  const proj = projects();
  const scans: ScanIn[] = [];
  const replays: ReplayIn[] = [];
  const failing: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = adv[i % adv.length];
    const project = proj[i % proj.length];
    const scanId = `scan-${hex(`scan${i}`).slice(0, 12)}`;
    const replayId = `rp-${hex(`replay${i}`).slice(0, 12)}`;
    const status: ReplayStatus = i % 17 === 5 ? 'error' : i % 3 === 0 ? 'failed' : 'passed';
    const reason: MismatchReason | null = status === 'failed' ? MISMATCH_REASONS[h(replayId) % MISMATCH_REASONS.length] : null;
    // Spread over ~60 days, one replay every ~50 minutes backwards from baseDay.
    const t = new Date(baseDay - i * 50 * 60_000).toISOString();
    const purl = `pkg:${a.ecosystem}/${a.pkg}@1.0.${i % 7}`;
    const summary =
      status === 'failed'
        ? {
            diff_summary_version: 1,
            mismatch_reason: reason,
            items: [
              { kind: 'vulnerability', vulnerability_id: a.id, purl, change: 'appeared', a: null, b: 'high', evidence: [{ kind: 'feed_finding', vulnerability_id: a.id, purl, change: 'appeared', records: [{ id: a.id, aliases: a.aliases }] }] },
              { kind: 'package', key: `pkg:${a.ecosystem}/${a.pkg}`, change: 'changed', a: [`1.0.${i % 7}`], b: [`1.0.${(i % 7) + 1}`], evidence: [] },
              { kind: 'verdict', change: 'decision', a: 'pass', b: 'fail', evidence: [{ kind: 'verdict_change', a: 'pass', b: 'fail', codes_added: ['VULN_HIGH'], codes_removed: [] }] },
            ],
          }
        : null;
    scans.push({
      scan_id: scanId,
      created_at: t,
      manifest_sha256: `sha256:${hex(`m${i}`)}`,
      scanner_version: `stella-scan ${1 + (i % 2)}.${i % 3}.0`,
      ecosystem: a.ecosystem,
      base_os: i % 2 ? 'debian-12' : 'alpine-3.20',
      project,
      regulated: i % 11 === 0,
      policy_set: i % 4 ? 'prod-default' : 'lenient',
      feed_digest: `sha256:${hex(`feed${i % 5}`)}`,
      policy_digest: `sha256:${hex(`policy${i % 2}`)}`,
      record_dir: null,
      manifest: { scan_id: scanId },
      artifacts: [],
    });
    replays.push({
      replay_id: replayId,
      original_scan_id: scanId,
      record_sha256: `sha256:${hex(`r${i}`)}`,
      status,
      bf_match: status === 'passed',
      sf_match: status === 'passed' || i % 2 === 0,
      pf_match: status !== 'failed',
      auto_reason: reason,
      subtags: reason === 'nondeterminism' ? ['ordering'] : [],
      started_at: t,
      finished_at: t,
      duration_ms: 1000 + (i % 50) * 10,
      scanner_version: `stella-scan ${1 + (i % 2)}.${i % 3}.0`,
      ecosystem: a.ecosystem,
      policy_set: i % 4 ? 'prod-default' : 'lenient',
      base_os: i % 2 ? 'debian-12' : 'alpine-3.20',
      project,
      feed_digest: `sha256:${hex(`feed${i % 5}`)}`,
      regulated: i % 11 === 0,
      executor_kind: 'docker',
      record_dir: null,
      manifest_sha256: `sha256:${hex(`m${i}`)}`,
      classifier_version: reason ? '1.0.0' : null,
      error: status === 'error' ? 'scanner timed out after 600s' : null,
      diff_summary: summary,
      manifest: { scan_id: scanId },
      executor: { kind: 'docker' },
      warnings: [],
    });
    if (status !== 'passed') failing.push(replayId);
  }
  await store.ingest({ scans, replays });
  return { ids: replays.map((r) => r.replay_id), failing };
}
