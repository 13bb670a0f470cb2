// BF, SF and PF comparison of two parsed records (SPEC §4). Every list leaves this module sorted by
// code units with a final tie-breaker, so the same pair always yields the same bytes.
import { compareCodeUnits } from '../canonical/index.js';
import { ARTIFACT_NAMES, SEVERITY_ORDER } from '../formats.js';
import { findingsModel, sbomModel, verdictModel, vexModel, type FindingFacts } from './model.js';
import type { ArtifactBf, Comparison, PackageChange, PackageSide, ReasonRef, ScanRecord, VexFlip, VulnRef, VulnValueChange } from './types.js';

const byKey = <T extends { key: string }>(x: T, y: T): number => compareCodeUnits(x.key, y.key);
const byVuln = <T extends { vulnerability_id: string; purl: string }>(x: T, y: T): number =>
  compareCodeUnits(x.vulnerability_id, y.vulnerability_id) || compareCodeUnits(x.purl, y.purl);
const byReason = (x: ReasonRef, y: ReasonRef): number => compareCodeUnits(x.code, y.code) || compareCodeUnits(x.subject, y.subject);
const sameList = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
const sortStrings = (xs: Iterable<string>): string[] => [...xs].sort(compareCodeUnits);

export function compareBf(a: ScanRecord, b: ScanRecord): Comparison['bf'] {
  const artifacts: ArtifactBf[] = ARTIFACT_NAMES.map((name) => {
    const x = a.artifacts[name];
    const y = b.artifacts[name];
    return { name, a: x.canonical_sha256, b: y.canonical_sha256, canonical_equal: x.canonical_sha256 === y.canonical_sha256, raw_equal: x.raw_sha256 === y.raw_sha256 };
  });
  return { match: artifacts.every((x) => x.canonical_equal), artifacts };
}

export function comparePackages(aDoc: unknown, bDoc: unknown): Comparison['sf']['packages'] {
  const ma = sbomModel(aDoc);
  const mb = sbomModel(bDoc);
  const added: PackageSide[] = [];
  const removed: PackageSide[] = [];
  const changed: PackageChange[] = [];
  for (const [key, versions] of ma) {
    const other = mb.get(key);
    if (!other) removed.push({ key, versions });
    else if (!sameList(versions, other)) changed.push({ key, a: versions, b: other });
  }
  for (const [key, versions] of mb) if (!ma.has(key)) added.push({ key, versions });
  return { added: added.sort(byKey), removed: removed.sort(byKey), changed: changed.sort(byKey) };
}

const vulnRef = (f: FindingFacts): VulnRef => ({ vulnerability_id: f.vulnerability_id, purl: f.purl, severity: f.severity });

export function compareFindings(aDoc: unknown, bDoc: unknown): Comparison['sf']['vulnerabilities'] {
  const ma = findingsModel(aDoc);
  const mb = findingsModel(bDoc);
  const appeared: VulnRef[] = [];
  const disappeared: VulnRef[] = [];
  const severity_changed: Comparison['sf']['vulnerabilities']['severity_changed'] = [];
  const fix_changed: Array<VulnValueChange<string[]>> = [];
  for (const [key, fa] of ma) {
    const fb = mb.get(key);
    if (!fb) {
      disappeared.push(vulnRef(fa));
      continue;
    }
    if (fa.severity !== fb.severity) severity_changed.push({ vulnerability_id: fa.vulnerability_id, purl: fa.purl, a: fa.severity, b: fb.severity });
    if (!sameList(fa.fixed, fb.fixed)) fix_changed.push({ vulnerability_id: fa.vulnerability_id, purl: fa.purl, a: fa.fixed, b: fb.fixed });
  }
  for (const [key, fb] of mb) if (!ma.has(key)) appeared.push(vulnRef(fb));
  return { appeared: appeared.sort(byVuln), disappeared: disappeared.sort(byVuln), severity_changed: severity_changed.sort(byVuln), fix_changed: fix_changed.sort(byVuln) };
}

export function compareVex(aDoc: unknown, bDoc: unknown): Comparison['sf']['vex'] {
  const ma = vexModel(aDoc);
  const mb = vexModel(bDoc);
  const flips: VexFlip[] = [];
  for (const [key, sa] of ma) {
    const sb = mb.get(key);
    if (!sb || sb.status !== sa.status) flips.push({ vulnerability: sa.vulnerability, product: sa.product, a: sa.status, b: sb?.status ?? null });
  }
  for (const [key, sb] of mb) if (!ma.has(key)) flips.push({ vulnerability: sb.vulnerability, product: sb.product, a: null, b: sb.status });
  flips.sort((x, y) => compareCodeUnits(x.vulnerability, y.vulnerability) || compareCodeUnits(x.product, y.product));
  return { status_flips: flips };
}

function reasonDiff(a: ReasonRef[], b: ReasonRef[]): { added: ReasonRef[]; removed: ReasonRef[] } {
  const k = (r: ReasonRef) => `${r.code}\u0000${r.subject}`;
  const ka = new Set(a.map(k));
  const kb = new Set(b.map(k));
  const dedupe = (rs: ReasonRef[]) => [...new Map(rs.map((r) => [k(r), r])).values()];
  return { added: dedupe(b.filter((r) => !ka.has(k(r)))).sort(byReason), removed: dedupe(a.filter((r) => !kb.has(k(r)))).sort(byReason) };
}

export function compareVerdicts(aDoc: unknown, bDoc: unknown): { sf: Comparison['sf']['verdict']; pf: Comparison['pf'] } {
  const va = verdictModel(aDoc);
  const vb = verdictModel(bDoc);
  const reasons = reasonDiff(va.reasons, vb.reasons);
  const codesA = new Set(va.reasons.map((r) => r.code));
  const codesB = new Set(vb.reasons.map((r) => r.code));
  const codesAdded = sortStrings([...codesB].filter((c) => !codesA.has(c)));
  const codesRemoved = sortStrings([...codesA].filter((c) => !codesB.has(c)));
  const sameDecision = va.decision === vb.decision;
  return {
    sf: { match: sameDecision && reasons.added.length === 0 && reasons.removed.length === 0, a: va.decision, b: vb.decision, reasons },
    pf: { match: sameDecision && codesAdded.length === 0 && codesRemoved.length === 0, decision: { a: va.decision, b: vb.decision }, reasons: { added: codesAdded, removed: codesRemoved } },
  };
}

/** Compare two records at the three levels of SPEC §4. Pure and linear in the size of the artifacts. */
export function compareRecords(a: ScanRecord, b: ScanRecord): Comparison {
  const bf = compareBf(a, b);
  const packages = comparePackages(a.artifacts.sbom.doc, b.artifacts.sbom.doc);
  const vulnerabilities = compareFindings(a.artifacts.findings.doc, b.artifacts.findings.doc);
  const vex = compareVex(a.artifacts.vex.doc, b.artifacts.vex.doc);
  const verdict = compareVerdicts(a.artifacts.verdict.doc, b.artifacts.verdict.doc);
  const sfMatch =
    packages.added.length + packages.removed.length + packages.changed.length === 0 &&
    vulnerabilities.appeared.length + vulnerabilities.disappeared.length + vulnerabilities.severity_changed.length + vulnerabilities.fix_changed.length === 0 &&
    vex.status_flips.length === 0 &&
    verdict.sf.match;
  const warnings = bf.artifacts.filter((x) => x.canonical_equal && !x.raw_equal).map((x) => `unstable_raw_order:${x.name}`);
  return {
    bf,
    sf: { match: sfMatch, packages, vulnerabilities, vex, verdict: verdict.sf },
    pf: verdict.pf,
    warnings: warnings.sort(compareCodeUnits),
  };
}

/** Severity rank for "top-N": critical first. */
export const severityRank = (s: string): number => {
  const i = SEVERITY_ORDER.indexOf(s as never);
  return i < 0 ? 0 : i;
};
