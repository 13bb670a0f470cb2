// The sampler's candidate scans and the garbage collector's references, read from the SQLite index.
import type { SampleCandidate } from '../../src/core/sample/index.js';
import type { Conn } from './rows.js';

export function sampleCandidates(c: Conn, createdFrom: string, alsoIds: readonly string[] = []): SampleCandidate[] {
  const ids = [...new Set(alsoIds)];
  const rows = c
    .st(
      `SELECT s.scan_id, s.created_at, s.ecosystem, s.base_os, s.regulated, s.scanner_version AS scanner,
         (SELECT max(r.finished_at) FROM replay_runs r WHERE r.original_scan_id = s.scan_id) AS last_replayed_at
       FROM scan_manifests s WHERE s.created_at >= ? OR s.scan_id IN (SELECT value FROM json_each(?)) ORDER BY s.scan_id`,
    )
    .all(createdFrom, JSON.stringify(ids)) as Array<Omit<SampleCandidate, 'regulated'> & { regulated: number }>;
  return rows.map((r) => ({ ...r, regulated: r.regulated === 1 }));
}

export function recordDirs(c: Conn): string[] {
  return c
    .st(
      `SELECT record_dir FROM scan_manifests WHERE record_dir IS NOT NULL UNION SELECT record_dir FROM replay_runs WHERE record_dir IS NOT NULL
       ORDER BY 1`,
    )
    .pluck()
    .all() as string[];
}

const DIGEST_G = /sha256:[0-9a-f]{64}/g;

/** Digest columns, and every digest inside the stored manifests, executors and diff summaries. */
export function referencedDigests(c: Conn): string[] {
  const out = new Set<string>(digestColumns(c));
  const texts = c.st(
    `SELECT manifest_json AS t FROM scan_manifests UNION ALL SELECT coalesce(manifest_json, '') || coalesce(executor_json, '') || coalesce(diff_summary_json, '') FROM replay_runs`,
  );
  for (const t of texts.pluck().iterate() as Iterable<string>) for (const m of t.matchAll(DIGEST_G)) out.add(m[0]);
  return [...out].sort();
}

function digestColumns(c: Conn): string[] {
  return c
    .st(
      `SELECT feed_digest FROM scan_manifests UNION SELECT policy_digest FROM scan_manifests UNION SELECT manifest_sha256 FROM scan_manifests
       UNION SELECT canonical_sha256 FROM scan_artifacts UNION SELECT raw_sha256 FROM scan_artifacts WHERE raw_sha256 IS NOT NULL
       UNION SELECT feed_digest FROM replay_runs UNION SELECT manifest_sha256 FROM replay_runs WHERE manifest_sha256 IS NOT NULL ORDER BY 1`,
    )
    .pluck()
    .all() as string[];
}
