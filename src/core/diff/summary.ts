// diff_summary v1 (SPEC §4): counts, top-N changed vulnerabilities, packages, verdict change and, for
// every changed item, the classifier's evidence about it. Its JSON Schema is diff-summary.v1.schema.json.
import { compareCodeUnits } from '../canonical/index.js';
import type { Classification, Evidence } from '../classify/index.js';
import { severityRank } from './compare.js';
import type { Comparison } from './types.js';

export const DIFF_SUMMARY_VERSION = 1;
export const TOP_N = 10;

export type SummaryItem =
  | { kind: 'vulnerability'; vulnerability_id: string; purl: string; change: 'appeared' | 'disappeared' | 'severity_changed' | 'fix_changed'; a: unknown; b: unknown; evidence: Evidence[] }
  | { kind: 'package'; key: string; change: 'added' | 'removed' | 'changed'; a: string[]; b: string[]; evidence: Evidence[] }
  | { kind: 'vex'; vulnerability: string; product: string; change: 'status_flip'; a: string | null; b: string | null; evidence: Evidence[] }
  | { kind: 'verdict'; change: 'decision' | 'reasons'; a: unknown; b: unknown; evidence: Evidence[] };

export interface DiffSummaryV1 {
  diff_summary_version: 1;
  classifier_version: string;
  mismatch_reason: Classification['mismatch_reason'];
  subtags: string[];
  levels: { bf: boolean; sf: boolean; pf: boolean };
  counts: {
    artifacts_differing: number;
    packages_added: number;
    packages_removed: number;
    packages_changed: number;
    vulnerabilities_appeared: number;
    vulnerabilities_disappeared: number;
    severity_changed: number;
    fix_changed: number;
    vex_status_flips: number;
    reasons_added: number;
    reasons_removed: number;
  };
  top_vulnerabilities: Array<{ vulnerability_id: string; purl: string; change: string; severity: string }>;
  packages: Comparison['sf']['packages'];
  verdict_change: null | { a: string; b: string; reasons_added: Array<{ code: string; subject: string }>; reasons_removed: Array<{ code: string; subject: string }> };
  warnings: string[];
  items: SummaryItem[];
}

/** Evidence that speaks about one finding, plus the record-level evidence that applies to everything. */
function evidenceFor(cls: Classification, vulnerabilityId?: string, purl?: string): Evidence[] {
  return cls.evidence.filter((e) => {
    if (e.kind === 'feed_finding') return e.vulnerability_id === vulnerabilityId && e.purl === purl;
    if (e.kind === 'artifact_value' || e.kind === 'permutation' || e.kind === 'semantic_change') return false;
    return true;
  });
}

export function buildDiffSummary(c: Comparison, cls: Classification, topN = TOP_N): DiffSummaryV1 {
  const v = c.sf.vulnerabilities;
  const sev = c.sf.verdict;
  const top = [
    ...v.appeared.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'appeared', severity: x.severity })),
    ...v.disappeared.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'disappeared', severity: x.severity })),
    ...v.severity_changed.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'severity_changed', severity: severityRank(x.a) >= severityRank(x.b) ? x.a : x.b })),
    ...v.fix_changed.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'fix_changed', severity: 'unknown' })),
  ]
    .sort((x, y) => severityRank(y.severity) - severityRank(x.severity) || compareCodeUnits(x.vulnerability_id, y.vulnerability_id) || compareCodeUnits(x.purl, y.purl) || compareCodeUnits(x.change, y.change))
    .slice(0, topN);

  const items: SummaryItem[] = [];
  for (const x of v.appeared) items.push({ kind: 'vulnerability', vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'appeared', a: null, b: x.severity, evidence: evidenceFor(cls, x.vulnerability_id, x.purl) });
  for (const x of v.disappeared) items.push({ kind: 'vulnerability', vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'disappeared', a: x.severity, b: null, evidence: evidenceFor(cls, x.vulnerability_id, x.purl) });
  for (const x of v.severity_changed) items.push({ kind: 'vulnerability', vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'severity_changed', a: x.a, b: x.b, evidence: evidenceFor(cls, x.vulnerability_id, x.purl) });
  for (const x of v.fix_changed) items.push({ kind: 'vulnerability', vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'fix_changed', a: x.a, b: x.b, evidence: evidenceFor(cls, x.vulnerability_id, x.purl) });
  const pkgEvidence = evidenceFor(cls);
  for (const p of c.sf.packages.added) items.push({ kind: 'package', key: p.key, change: 'added', a: [], b: p.versions, evidence: pkgEvidence });
  for (const p of c.sf.packages.removed) items.push({ kind: 'package', key: p.key, change: 'removed', a: p.versions, b: [], evidence: pkgEvidence });
  for (const p of c.sf.packages.changed) items.push({ kind: 'package', key: p.key, change: 'changed', a: p.a, b: p.b, evidence: pkgEvidence });
  for (const f of c.sf.vex.status_flips) items.push({ kind: 'vex', vulnerability: f.vulnerability, product: f.product, change: 'status_flip', a: f.a, b: f.b, evidence: evidenceFor(cls, f.vulnerability, f.product) });
  if (sev.a !== sev.b) items.push({ kind: 'verdict', change: 'decision', a: sev.a, b: sev.b, evidence: pkgEvidence });
  if (sev.reasons.added.length || sev.reasons.removed.length) items.push({ kind: 'verdict', change: 'reasons', a: sev.reasons.removed, b: sev.reasons.added, evidence: pkgEvidence });

  return {
    diff_summary_version: DIFF_SUMMARY_VERSION,
    classifier_version: cls.classifier_version,
    mismatch_reason: cls.mismatch_reason,
    subtags: cls.subtags,
    levels: { bf: c.bf.match, sf: c.sf.match, pf: c.pf.match },
    counts: {
      artifacts_differing: c.bf.artifacts.filter((x) => !x.canonical_equal).length,
      packages_added: c.sf.packages.added.length,
      packages_removed: c.sf.packages.removed.length,
      packages_changed: c.sf.packages.changed.length,
      vulnerabilities_appeared: v.appeared.length,
      vulnerabilities_disappeared: v.disappeared.length,
      severity_changed: v.severity_changed.length,
      fix_changed: v.fix_changed.length,
      vex_status_flips: c.sf.vex.status_flips.length,
      reasons_added: sev.reasons.added.length,
      reasons_removed: sev.reasons.removed.length,
    },
    top_vulnerabilities: top,
    packages: c.sf.packages,
    verdict_change: sev.match ? null : { a: sev.a, b: sev.b, reasons_added: sev.reasons.added, reasons_removed: sev.reasons.removed },
    warnings: c.warnings,
    items,
  };
}
