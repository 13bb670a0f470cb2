// Severity of an OSV record: CVSS base scores computed from the vectors, qualitative ratings from
// `database_specific.severity`, and a fixed precedence between them.
//
// Precedence (first hit wins): the matched `affected[].severity`, then the record's `severity`, then
// `database_specific.severity` (affected-level before record-level). Within one severity list a vector
// whose score we can compute (CVSS v3.x, then v2) is preferred over a CVSS v4 vector.
//
// CVSS v4: the v4 base score needs the spec's macro-vector lookup table; rather than approximate a score
// we never report one (cvss_score = null). The qualitative rating comes from `database_specific.severity`
// when the record has one (GHSA computes it with the official calculator); otherwise it is mapped
// conservatively — rounding up, never down — from the vulnerable-system impact metrics:
//   any VC/VI/VA = H and AV:N, AT:N, PR:N, UI:N (remotely exploitable, no preconditions) → critical,
//   any VC/VI/VA/SC/SI/SA = H otherwise → high, any = L → medium, all N → none.
import type { Severity } from '../core/formats.js';
import type { OsvRecord } from './types.js';

export interface SeverityResult {
  severity: Severity;
  cvss_vector: string | null;
  cvss_score: number | null;
}

const UNKNOWN: SeverityResult = { severity: 'unknown', cvss_vector: null, cvss_score: null };

/** Split `CVSS:3.1/AV:N/...` into metrics; null when a metric repeats or a part is malformed. */
function metrics(vector: string, skipPrefix: boolean): Map<string, string> | null {
  const parts = vector.trim().split('/');
  const out = new Map<string, string>();
  for (const [i, part] of parts.entries()) {
    if (skipPrefix && i === 0) continue;
    const m = /^([A-Za-z]+):([A-Za-z])$/.exec(part);
    if (!m || out.has(m[1])) return null;
    out.set(m[1], m[2]);
  }
  return out;
}

/** CVSS v3.1 §7.4 Roundup: the smallest number with one decimal ≥ x, immune to floating-point noise. */
export function roundUp31(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** CVSS v3.0's Roundup: plain ceiling to one decimal. */
function roundUp30(x: number): number {
  return Math.ceil(x * 10) / 10;
}

const V3 = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

function pick<T extends Record<string, number>>(table: T, key: string | undefined): number | null {
  if (key === undefined || !Object.prototype.hasOwnProperty.call(table, key)) return null;
  return table[key as keyof T] as number;
}

/** CVSS v3.0 / v3.1 base score (spec §7.1), or null when the vector is not a complete valid v3 vector. */
export function cvss3BaseScore(vector: string): number | null {
  const head = /^CVSS:3\.([01])\//.exec(vector.trim());
  if (!head) return null;
  const m = metrics(vector, true);
  if (!m) return null;
  const scope = m.get('S');
  if (scope !== 'U' && scope !== 'C') return null;
  const av = pick(V3.AV, m.get('AV'));
  const ac = pick(V3.AC, m.get('AC'));
  const ui = pick(V3.UI, m.get('UI'));
  const c = pick(V3.CIA, m.get('C'));
  const i = pick(V3.CIA, m.get('I'));
  const a = pick(V3.CIA, m.get('A'));
  const prTable = scope === 'C' ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 };
  const pr = pick(prTable, m.get('PR'));
  if (av === null || ac === null || ui === null || c === null || i === null || a === null || pr === null) return null;
  const roundUp = head[1] === '1' ? roundUp31 : roundUp30;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15);
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return scope === 'U' ? roundUp(Math.min(impact + exploitability, 10)) : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

/** CVSS v2 base score (v2 guide §3.2.1), or null for an invalid vector. */
export function cvss2BaseScore(vector: string): number | null {
  const text = vector.trim().replace(/^\(|\)$/g, '').replace(/^CVSS:2\.0\//, '');
  const m = metrics(text, false);
  if (!m) return null;
  const av = pick({ L: 0.395, A: 0.646, N: 1.0 }, m.get('AV'));
  const ac = pick({ H: 0.35, M: 0.61, L: 0.71 }, m.get('AC'));
  const au = pick({ M: 0.45, S: 0.56, N: 0.704 }, m.get('Au'));
  const cia = { N: 0, P: 0.275, C: 0.66 };
  const c = pick(cia, m.get('C'));
  const i = pick(cia, m.get('I'));
  const a = pick(cia, m.get('A'));
  if (av === null || ac === null || au === null || c === null || i === null || a === null) return null;
  const impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a));
  const exploitability = 20 * av * ac * au;
  const f = impact === 0 ? 0 : 1.176;
  return Math.round((0.6 * impact + 0.4 * exploitability - 1.5) * f * 10 + 1e-9) / 10;
}

/** CVSS v3/v4 qualitative rating of a score (v3.1 spec §5). */
export function severityFromScore(score: number): Severity {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

/** CVSS v2 has no "critical": NVD's v2 bands. */
function severityFromV2Score(score: number): Severity {
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  return 'high';
}

/** Conservative qualitative rating of a CVSS v4 vector (see the header comment); null when invalid. */
export function cvss4ConservativeSeverity(vector: string): Severity | null {
  if (!/^CVSS:4\.0\//.test(vector.trim())) return null;
  const m = metrics(vector, true);
  if (!m) return null;
  const impacts = ['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].map((k) => m.get(k));
  if (impacts.some((v) => v !== 'H' && v !== 'L' && v !== 'N')) return null;
  const vulnerableHigh = ['VC', 'VI', 'VA'].some((k) => m.get(k) === 'H');
  const noPreconditions = m.get('AV') === 'N' && m.get('AT') === 'N' && m.get('PR') === 'N' && m.get('UI') === 'N';
  if (vulnerableHigh && noPreconditions) return 'critical';
  if (impacts.includes('H')) return 'high';
  if (impacts.includes('L')) return 'medium';
  return 'none';
}

/** GHSA-style `database_specific.severity` (`CRITICAL`, `HIGH`, `MODERATE`, `LOW`) as a Severity. */
export function qualitativeSeverity(value: unknown): Severity | null {
  if (typeof value !== 'string') return null;
  switch (value.trim().toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
    case 'important':
      return 'high';
    case 'moderate':
    case 'medium':
      return 'medium';
    case 'low':
      return 'low';
    case 'none':
      return 'none';
    default:
      return null;
  }
}

type SeverityList = Array<{ type: string; score: string }> | undefined;

function dbSeverity(dbSpecific: unknown): Severity | null {
  if (dbSpecific === null || typeof dbSpecific !== 'object' || Array.isArray(dbSpecific)) return null;
  return qualitativeSeverity((dbSpecific as Record<string, unknown>).severity);
}

/** Best result from one OSV severity list; `fallback` is the qualitative rating to pair with a v4 vector. */
function fromList(list: SeverityList, fallback: Severity | null): SeverityResult | null {
  if (!Array.isArray(list)) return null;
  const byType = (t: string) => list.filter((s) => s && s.type === t && typeof s.score === 'string');
  for (const s of byType('CVSS_V3')) {
    const score = cvss3BaseScore(s.score);
    if (score !== null) return { severity: severityFromScore(score), cvss_vector: s.score, cvss_score: score };
  }
  for (const s of byType('CVSS_V2')) {
    const score = cvss2BaseScore(s.score);
    if (score !== null) return { severity: severityFromV2Score(score), cvss_vector: s.score, cvss_score: score };
  }
  for (const s of byType('CVSS_V4')) {
    const conservative = cvss4ConservativeSeverity(s.score);
    if (conservative !== null) return { severity: fallback ?? conservative, cvss_vector: s.score, cvss_score: null };
  }
  return null;
}

/**
 * Severity of a record for one of its `affected` entries (index into `record.affected`, or -1 when
 * no particular entry matched). Never throws: unusable data yields `unknown`.
 */
export function severityOf(record: OsvRecord, affectedIndex = -1): SeverityResult {
  const affected = affectedIndex >= 0 ? record.affected?.[affectedIndex] : undefined;
  const qualitative = dbSeverity(affected?.database_specific) ?? dbSeverity(record.database_specific);
  const hit = fromList(affected?.severity, qualitative) ?? fromList(record.severity, qualitative);
  if (hit) return hit;
  if (qualitative) return { severity: qualitative, cvss_vector: null, cvss_score: null };
  return UNKNOWN;
}
