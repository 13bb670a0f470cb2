// Ingest: scans and replays in one write transaction, the rollups moving with them. A re-written
// record replaces its row but keeps its human tag: people's triage outlives re-indexing.
import { cellsOf } from '../../src/core/fidelity/index.js';
import { failingOf, tagKeyOf } from '../../src/core/filter/sort.js';
import type { IngestOutcome, ReplayIn, ScanIn } from '../../src/core/ports.js';
import { type Conn, type RawRow, ROW_COLS, b2i, factsOf } from './rows.js';
import { type Deltas, flush, newDeltas, scopeOf } from './rollup.js';
import { writeTerms } from './terms.js';

export function ingest(c: Conn, batch: { scans: ScanIn[]; replays: ReplayIn[] }): { scans: IngestOutcome[]; replays: IngestOutcome[] } {
  return c.db
    .transaction(() => {
      const delta = newDeltas();
      const scans = batch.scans.map((s) => ingestScan(c, s));
      const replays = batch.replays.map((r) => ingestReplay(c, r, delta));
      flush(c, delta);
      return { scans, replays };
    })
    .immediate();
}

function ingestScan(c: Conn, s: ScanIn): IngestOutcome {
  const old = c.st('SELECT manifest_sha256, feed_digest, record_dir FROM scan_manifests WHERE scan_id = ?').get(s.scan_id) as
    | { manifest_sha256: string; feed_digest: string; record_dir: string | null }
    | undefined;
  if (old && old.manifest_sha256 === s.manifest_sha256 && old.record_dir === s.record_dir) return 'unchanged';
  if (old) {
    c.st('DELETE FROM scan_artifacts WHERE scan_id = ?').run(s.scan_id);
    c.st('DELETE FROM scan_manifests WHERE scan_id = ?').run(s.scan_id);
    c.st('UPDATE feed_snapshots SET scans = scans - 1 WHERE digest = ?').run(old.feed_digest);
    c.st('DELETE FROM feed_snapshots WHERE digest = ? AND scans <= 0').run(old.feed_digest);
  }
  c.st(
    `INSERT INTO scan_manifests (scan_id, created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated,
       policy_set, feed_digest, policy_digest, record_dir, manifest_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  ).run(
    s.scan_id, s.created_at, s.manifest_sha256, s.scanner_version, s.ecosystem, s.base_os, s.project, s.regulated ? 1 : 0,
    s.policy_set, s.feed_digest, s.policy_digest, s.record_dir, JSON.stringify(s.manifest),
  );
  for (const a of s.artifacts) {
    c.st('INSERT INTO scan_artifacts (scan_id, name, path, canonical_sha256, raw_sha256, schema, bytes) VALUES (?,?,?,?,?,?,?)').run(
      s.scan_id, a.name, a.path, a.canonical_sha256, a.raw_sha256, a.schema, a.bytes,
    );
  }
  c.st(
    `INSERT INTO feed_snapshots (digest, first_seen, scans) VALUES (?, ?, 1)
     ON CONFLICT (digest) DO UPDATE SET scans = scans + 1, first_seen = min(first_seen, excluded.first_seen)`,
  ).run(s.feed_digest, s.created_at);
  return old ? 'updated' : 'inserted';
}

function ingestReplay(c: Conn, r: ReplayIn, delta: Deltas): IngestOutcome {
  const old = c.st(`SELECT ${ROW_COLS}, record_sha256 FROM replay_runs WHERE replay_id = ?`).get(r.replay_id) as
    | (RawRow & { record_sha256: string })
    | undefined;
  if (old && old.record_sha256 === r.record_sha256 && old.record_dir === r.record_dir) return 'unchanged';
  // A re-written record keeps its human tag: people's triage outlives re-indexing.
  const human = old ? old.human_tag : null;
  const tag = human ?? r.auto_reason;
  if (old) {
    delta.rollup.add(cellsOf(factsOf(old, old.tag)), -1, scopeOf(old.mode));
    delta.counts.add(old, -1);
    c.st('DELETE FROM replay_runs WHERE replay_id = ?').run(r.replay_id);
  }
  const failing = failingOf(r.status);
  const tag_key = tagKeyOf(tag);
  c.st(
    `INSERT INTO replay_runs (replay_id, original_scan_id, record_sha256, status, failing, bf_match, sf_match, pf_match, auto_reason,
       human_tag, tag, tag_key, subtags_json, started_at, finished_at, day, duration_ms, scanner_version, ecosystem, policy_set, base_os,
       project, feed_digest, regulated, executor_kind, record_dir, manifest_sha256, classifier_version, error, diff_summary_json,
       manifest_json, executor_json, warnings_json, mode)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  ).run(
    r.replay_id, r.original_scan_id, r.record_sha256, r.status, failing, b2i(r.bf_match), b2i(r.sf_match),
    b2i(r.pf_match), r.auto_reason, human, tag, tag_key, JSON.stringify(r.subtags), r.started_at, r.finished_at,
    r.finished_at.slice(0, 10), r.duration_ms, r.scanner_version, r.ecosystem, r.policy_set, r.base_os, r.project, r.feed_digest,
    r.regulated ? 1 : 0, r.executor_kind, r.record_dir, r.manifest_sha256, r.classifier_version, r.error,
    r.diff_summary === null ? null : JSON.stringify(r.diff_summary), r.manifest === null ? null : JSON.stringify(r.manifest),
    r.executor === null ? null : JSON.stringify(r.executor), JSON.stringify(r.warnings), r.mode ?? 'pinned',
  );
  writeTerms(c, r.replay_id, r.diff_summary);
  delta.rollup.add(cellsOf(factsOf(r, tag)), 1, scopeOf(r.mode));
  delta.counts.add({ ...r, failing, tag_key }, 1);
  return old ? 'updated' : 'inserted';
}
