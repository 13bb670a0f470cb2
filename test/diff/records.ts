// Builds real scan records for the diff/classifier tests from fixtures/third_party: the juice-shop
// CycloneDX 1.6 SBOM, the OSV records that affect it (per osv/EXPECTED-MATCHES.hint.json) and a small
// severity/date policy. The scanner's own fault switches are modelled with the same names (SPEC §2):
// unsorted-workers, wallclock, random-ids, tz-date-rule; they are recorded in scanner.flags when on.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalizeArtifact, canonicalDigest, rawDigest } from '../../src/core/canonical/index.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, ARTIFACT_SCHEMAS, type Finding, type Outputs, type ReplayRecord, type ScanManifest, type Severity } from '../../src/core/formats.js';
import type { OsvRecord, OsvRecordEntry } from '../../src/scanner/types.js';
import { THIRD_PARTY } from '../helpers/cli.js';

export const SBOM_FILE = 'sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json';
const HINTS = JSON.parse(readFileSync(path.join(THIRD_PARTY, 'osv/EXPECTED-MATCHES.hint.json'), 'utf8')) as Record<string, Record<string, string[]>>;
export const MATCHED_IDS: string[] = Object.keys(HINTS[SBOM_FILE]).sort();

const sha = (b: string | Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as const;

/** The real OSV record files, as a feed bundle would carry them. */
export function osvEntry(id: string, edit?: (r: OsvRecord) => OsvRecord): OsvRecordEntry {
  const rel = `osv/ghsa/${id}.json`;
  let bytes = readFileSync(path.join(THIRD_PARTY, rel));
  let record = JSON.parse(bytes.toString('utf8')) as OsvRecord;
  if (edit) {
    record = edit(structuredClone(record));
    bytes = Buffer.from(JSON.stringify(record, null, 2));
  }
  return { path: `feeds/ghsa/npm/${id}.json`, sha256: sha(bytes), record };
}

/** A stand-in bundle digest: content-derived from the entries, as the real `.tar.zst` digest is. */
export const feedDigest = (entries: OsvRecordEntry[]) => canonicalDigest(entries.map((e) => [e.path, e.sha256]).sort());

export interface Policy {
  /** Fail at or above this severity. */
  threshold: Severity;
  /** Fail when a fix has been available longer than this many days (a date-based rule), or null. */
  fix_age_days: number | null;
}
export const policyDigest = (p: Policy) => canonicalDigest(p);

export interface BuildOptions {
  feed: OsvRecordEntry[];
  policy?: Policy;
  manifest?: (m: ScanManifest) => void;
  faults?: Array<'unsorted-workers' | 'wallclock' | 'random-ids' | 'tz-date-rule'>;
  /** Stands in for the fault's non-reproducible input (wall time, random bytes). */
  entropy?: string;
  /** Turn the record into a replay of `scanId`. */
  replayOf?: { scanId: string; executor?: Partial<ReplayRecord['executor']>; mode?: string };
  /** What manifest.json says when it differs from what the scanner ran with (a what-if replay keeps the original). */
  pinnedManifest?: ScanManifest;
  /** Rewrite the SBOM (after the scanner built it). */
  sbom?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** How the artifacts are written: stable pretty JSON by default. */
  write?: (name: string, doc: unknown) => string;
}

const RANK: Severity[] = ['unknown', 'none', 'low', 'medium', 'high', 'critical'];
const severityOf = (r: OsvRecord): Severity => {
  const s = String((r.database_specific as { severity?: string } | undefined)?.severity ?? '').toLowerCase();
  return s === 'moderate' ? 'medium' : (RANK.includes(s as Severity) ? (s as Severity) : 'unknown');
};

export function baseManifest(): ScanManifest {
  const sbomBytes = readFileSync(path.join(THIRD_PARTY, SBOM_FILE));
  return {
    manifest_version: '1.0',
    scan_id: '',
    created_at: '2025-12-12T10:15:30Z',
    input: { type: 'sbom', ref: SBOM_FILE, digest: sha(sbomBytes), layers: [], source_provenance: { repo_sha: 'b0e1c9a', build_id: 'juice-shop-14.1.1' } },
    scanner: { engine: 'stella', scanner_image_digest: sha('stella-scanner-image'), scanner_version: '0.1.0', config_digest: sha('{}'), flags: [] },
    feeds: { vuln_feed_bundle_digest: '', license_db_digest: null },
    policy: { policy_bundle_digest: '', policy_set: 'prod-default' },
    environment: { arch: 'amd64', os: 'linux', tz: 'UTC', locale: 'C', network: 'disabled', clock_mode: 'frozen', clock_value: '2025-12-12T23:30:00Z', cpus: 2 },
    normalization: { canonicalizer_version: '1.0.0', sbom_schema: 'cyclonedx-1.6', vex_schema: 'openvex-0.2.0' },
    labels: { ecosystem: 'npm', base_os: 'none', regulated: false, project: 'juice-shop' },
  };
}

/** The calendar date of `iso` in time zone `tz`. */
const localDate = (iso: string, tz: string) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

export function buildRecord(dir: string, o: BuildOptions): { dir: string; manifest: ScanManifest } {
  const policy = o.policy ?? { threshold: 'critical', fix_age_days: null };
  const faults = [...(o.faults ?? [])].sort();
  const m = baseManifest();
  m.feeds.vuln_feed_bundle_digest = feedDigest(o.feed);
  m.policy.policy_bundle_digest = policyDigest(policy);
  m.scanner.flags = faults.map((f) => `fault:${f}`);
  o.manifest?.(m);
  if (!m.scan_id) m.scan_id = `scan_${canonicalDigest({ ...m, scan_id: '' }).slice(7, 23)}`;
  const clock = m.environment.clock_value;
  const written = o.pinnedManifest ?? m;
  // A replay runs in the executor's TZ; the tz-date-rule fault lets that leak into the verdict.
  const tz = o.replayOf?.executor?.tz ?? m.environment.tz;

  // SBOM: the real document; the scanner fills the volatile header fields.
  let sbom = JSON.parse(readFileSync(path.join(THIRD_PARTY, SBOM_FILE), 'utf8')) as Record<string, unknown>;
  sbom.serialNumber = `urn:uuid:${canonicalDigest(written.scan_id).slice(7, 15)}-0000-4000-8000-000000000000`;
  sbom.metadata = { ...(sbom.metadata as object), timestamp: clock };
  if (faults.includes('wallclock')) {
    (sbom.metadata as Record<string, unknown>).properties = [{ name: 'stella:generated_at_wallclock', value: o.entropy ?? '2026-11-26T21:00:00.000Z' }];
  }
  if (o.sbom) sbom = o.sbom(sbom);
  const components = (sbom.components as Array<Record<string, unknown>>) ?? [];
  const byNameVersion = new Map(components.map((c) => [`${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`, c]));

  // Findings: each feed record that the hints say affects a package@version in the SBOM.
  const hints = HINTS[SBOM_FILE];
  // Records that alias each other describe one vulnerability: they merge into one finding whose
  // `sources` lists every record in the order the matcher workers reported them.
  const feedIds = new Set(o.feed.map((e) => e.record.id));
  const groupOf = (r: OsvRecord) => [r.id, ...(r.aliases ?? []).filter((a) => feedIds.has(a))].sort()[0];
  const merged = new Map<string, Finding>();
  for (const e of [...o.feed].sort((x, y) => (x.record.id < y.record.id ? -1 : 1))) {
    for (const nv of hints[e.record.id] ?? []) {
      const c = byNameVersion.get(nv);
      if (!c) continue;
      const purl = String(c.purl).split('#')[0];
      const fixed = (e.record.affected ?? []).flatMap((a) => (a.ranges ?? []).flatMap((r) => r.events.flatMap((ev) => (ev.fixed ? [ev.fixed] : []))));
      const group = groupOf(e.record);
      const key = `${group} ${purl}`;
      const have = merged.get(key);
      const source = { id: e.record.id, path: e.path, sha256: e.sha256 as `sha256:${string}` };
      if (have) {
        have.sources.push(source);
        have.aliases = [...new Set([...have.aliases, e.record.id, ...(e.record.aliases ?? [])])].filter((x) => x !== group).sort();
        have.fixed_versions = [...new Set([...have.fixed_versions, ...fixed])].sort();
        continue;
      }
      merged.set(key, {
        id: `f_${canonicalDigest([group, purl]).slice(7, 23)}`,
        vulnerability_id: group,
        aliases: [...new Set([...(e.record.aliases ?? []), e.record.id])].filter((x) => x !== group).sort(),
        package: { ecosystem: 'npm', name: String(c.name), version: String(c.version), purl },
        severity: severityOf(e.record),
        cvss_vector: e.record.severity?.[0]?.score ?? null,
        cvss_score: null,
        fixed_versions: [...new Set(fixed)].sort(),
        summary: e.record.summary ?? '',
        published: e.record.published ?? null,
        modified: e.record.modified,
        fix_available_since: fixed.length ? e.record.published ?? null : null,
        sources: [source],
      });
    }
  }
  const findings = [...merged.values()].sort((x, y) => (x.vulnerability_id < y.vulnerability_id ? -1 : x.vulnerability_id > y.vulnerability_id ? 1 : x.package.purl < y.package.purl ? -1 : 1));
  // unsorted-workers: the first worker to finish reports first; `entropy` stands for the race's outcome.
  if (faults.includes('unsorted-workers') && o.entropy === 'reversed') for (const f of findings) f.sources.reverse();
  const findingsDoc = { schema: 'stella-findings/v1', scan_id: written.scan_id, findings };

  // VEX: one `affected` statement per finding.
  const vexId = faults.includes('random-ids') ? `https://openvex.dev/docs/stella/vex-${o.entropy ?? '9b2f0c1e-6d0a-4b8e-a3c1-5f7e2d9b4a61'}` : `https://openvex.dev/docs/stella/vex-${written.scan_id}`;
  const vex = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': vexId,
    author: 'stella',
    timestamp: clock,
    version: 1,
    statements: findings.map((f) => ({ vulnerability: { name: f.vulnerability_id }, products: [{ '@id': f.package.purl }], status: 'affected', action_statement: 'upgrade' })),
  };

  // Verdict: severity threshold, and a date rule read from the scan clock (in the manifest's TZ only
  // under the tz-date-rule fault, which is the bug that switch injects).
  const reasons: Array<{ code: string; subject: string; detail: string }> = [];
  for (const f of findings) {
    if (RANK.indexOf(f.severity) >= RANK.indexOf(policy.threshold)) reasons.push({ code: `SEV_${f.severity.toUpperCase()}`, subject: f.package.purl, detail: f.vulnerability_id });
  }
  if (policy.fix_age_days !== null) {
    const today = faults.includes('tz-date-rule') ? localDate(clock, tz) : clock.slice(0, 10);
    for (const f of findings) {
      if (!f.fix_available_since) continue;
      const age = (Date.parse(today) - Date.parse(f.fix_available_since.slice(0, 10))) / 86_400_000;
      if (age > policy.fix_age_days) reasons.push({ code: 'FIX_AGE', subject: f.package.purl, detail: `${f.vulnerability_id} fix available ${age} days` });
    }
  }
  const verdict = { schema: 'stella-verdict/v1', decision: reasons.length ? 'fail' : 'pass', reasons, policy_set: m.policy.policy_set, evaluated_at: clock };

  const docs: Record<string, unknown> = { sbom, findings: findingsDoc, vex, verdict };
  const write = o.write ?? ((_n: string, d: unknown) => JSON.stringify(d, null, 2) + '\n');
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  const outputs = {} as Outputs;
  for (const name of ARTIFACT_NAMES) {
    const text = write(name, docs[name]);
    writeFileSync(path.join(dir, ARTIFACT_PATHS[name]), text);
    const schema = ARTIFACT_SCHEMAS[name];
    outputs[name] = { path: ARTIFACT_PATHS[name], canonical_sha256: canonicalizeArtifact(schema, JSON.parse(text)).digest, raw_sha256: rawDigest(Buffer.from(text)), schema, bytes: Buffer.byteLength(text) };
  }
  writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(outputs, null, 2) + '\n');
  if (o.replayOf) {
    const replay: ReplayRecord = {
      replay_id: `rpl_${canonicalDigest([o.replayOf.scanId, dir]).slice(7, 23)}`,
      original_scan_id: o.replayOf.scanId,
      manifest_sha256: canonicalDigest(written),
      mode: o.replayOf.mode ?? 'pinned',
      executor: {
        kind: 'docker', image_digest: m.scanner.scanner_image_digest, network: 'none', read_only: true, user: '65534:65534',
        tz: m.environment.tz, locale: m.environment.locale, clock_mode: m.environment.clock_mode, clock_value: m.environment.clock_value,
        cpus: m.environment.cpus, arch: m.environment.arch, os: m.environment.os, kernel: '6.1.0', engine_version: '27.0.0', assurance: 'high',
        ...o.replayOf.executor,
      },
      started_at: '2026-01-05T09:00:00Z',
      finished_at: '2026-01-05T09:00:04Z',
      status: 'failed', bf_match: false, sf_match: null, pf_match: null,
      artifacts: Object.fromEntries(ARTIFACT_NAMES.map((n) => [n, { canonical_sha256: outputs[n].canonical_sha256 }])),
      mismatch_reason: null, subtags: [], diff_summary: null,
    };
    writeFileSync(path.join(dir, 'replay.json'), JSON.stringify(replay, null, 2) + '\n');
  }
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(written, null, 2) + '\n');
  return { dir, manifest: written };
}

export const allFeed = () => MATCHED_IDS.map((id) => osvEntry(id));
