// The sampler's candidate scans and the garbage collector's references, read from the SQLite index.
import type { SampleBounds, SampleCandidate, SampleGroup } from '../../src/core/sample/index.js';
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

/**
 * The sampler's scans placed by `SampleBounds` (src/core/sample; the PostgreSQL store runs the same
 * query, and also decides exact times on a bound's day and cuts by rank, which this in-process store
 * need not: both are economies of the wire): per (ecosystem, base_os, regulated, scanner) the ids surely fresh and surely recent,
 * space-separated (an id with a space goes to the candidates instead); the rest (window edges, odd
 * offsets, canaries) as candidates. The newest replay is looked up only among replays from
 * `replayedFrom` on (an older one cannot be recent), and a scan's class is computed once, as a group key.
 */
export function sampleGroups(c: Conn, b: SampleBounds, alsoIds: readonly string[] = []): { groups: SampleGroup[]; candidates: SampleCandidate[] } {
  // A shaped time (see SampleBounds): 20 characters or more, `YYYY-MM-DD` digits, `T` at 10, `Z` last.
  const shaped = (x: string) => `(length(${x}) >= 20 AND ${x} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z')`;
  const rows = c
    .st(
      `WITH lr AS (
         SELECT original_scan_id AS scan_id, max(finished_at) AS lr FROM replay_runs WHERE finished_at >= :replayedFrom GROUP BY original_scan_id
       ), k AS (
         SELECT s.scan_id, s.created_at, s.ecosystem, s.base_os, s.regulated, s.scanner_version AS scanner, lr.lr, CASE
           WHEN s.scan_id IN (SELECT value FROM json_each(:ids)) OR instr(s.scan_id, ' ') > 0
             OR NOT (${shaped('s.created_at')} AND substr(s.created_at, 1, 10) > :insideAfter AND substr(s.created_at, 1, 10) < :insideBefore) THEN 'o'
           WHEN lr.lr IS NULL THEN 'f'
           WHEN NOT ${shaped('lr.lr')} THEN 'o'
           WHEN substr(lr.lr, 1, 10) < :recentDay THEN 'f'
           WHEN substr(lr.lr, 1, 10) > :recentDay THEN 'r'
           ELSE 'o' END AS k
         FROM scan_manifests s LEFT JOIN lr ON lr.scan_id = s.scan_id
         WHERE s.created_at >= :createdFrom OR s.scan_id IN (SELECT value FROM json_each(:ids))
       )
       SELECT ecosystem, base_os, regulated, scanner, k, group_concat(scan_id, ' ') FILTER (WHERE k <> 'o') AS ids,
         json_group_array(json_array(scan_id, created_at, lr)) FILTER (WHERE k = 'o') AS others
       FROM k GROUP BY ecosystem, base_os, regulated, scanner, k`,
    )
    .all({ ...b, ids: JSON.stringify([...new Set(alsoIds)]) }) as Array<{
      ecosystem: string; base_os: string; regulated: number; scanner: string; k: 'f' | 'r' | 'o'; ids: string | null; others: string;
    }>;
  const groups: SampleGroup[] = [];
  const candidates: SampleCandidate[] = [];
  for (const r of rows) {
    const labels = { ecosystem: r.ecosystem, base_os: r.base_os, regulated: r.regulated === 1, scanner: r.scanner };
    const ids = r.ids === null ? [] : r.ids.split(' ');
    groups.push({ ...labels, fresh: r.k === 'f' ? ids : [], recent: r.k === 'r' ? ids : [] });
    for (const [scan_id, created_at, last_replayed_at] of JSON.parse(r.others) as Array<[string, string, string | null]>) {
      candidates.push({ scan_id, created_at, ...labels, last_replayed_at });
    }
  }
  return { groups, candidates };
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
