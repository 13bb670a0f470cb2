// Semantic models of the four artifacts (SPEC §4 SF): what a human means by "the same scan result",
// indexed by identity so two 50k-component scans compare in linear time.
import type { Decision, Finding, Severity } from '../formats.js';
import type { ReasonRef } from './types.js';
import { isObject as isObj } from '../guards.js';

type Obj = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/**
 * Package identity without its version: the purl up to the version `@` (qualifiers and subpath dropped,
 * they describe the artifact, not the package), else `type:group/name`.
 */
export function packageKey(component: Obj): string {
  const purl = component.purl;
  if (typeof purl === 'string' && purl.startsWith('pkg:')) {
    const base = purl.split(/[?#]/, 1)[0];
    const at = base.lastIndexOf('@');
    return at > base.lastIndexOf('/') ? base.slice(0, at) : base;
  }
  const group = str(component.group);
  return `${str(component.type) || 'component'}:${group ? group + '/' : ''}${str(component.name)}`;
}

/** key → the versions present (a package may legitimately appear in several versions, e.g. npm). */
export type PackageModel = Map<string, string[]>;

export function sbomModel(doc: unknown): PackageModel {
  const out: PackageModel = new Map();
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      if (!isObj(c)) continue;
      const key = packageKey(c);
      const version = str(c.version);
      const have = out.get(key);
      if (have) have.push(version);
      else out.set(key, [version]);
      walk(c.components);
    }
  };
  if (isObj(doc)) walk(doc.components);
  // Versions as a sorted multiset so permutations compare equal.
  for (const v of out.values()) v.sort();
  return out;
}

export interface FindingFacts {
  vulnerability_id: string;
  purl: string;
  severity: Severity;
  fixed: string[];
  aliases: string[];
  sources: Array<{ id: string; path: string; sha256: string }>;
}
export type FindingsModel = Map<string, FindingFacts>;

export const findingKey = (vulnerabilityId: string, purl: string): string => `${vulnerabilityId}\u0000${purl}`;

export function findingsModel(doc: unknown): FindingsModel {
  const out: FindingsModel = new Map();
  const list = isObj(doc) && Array.isArray(doc.findings) ? (doc.findings as Finding[]) : [];
  for (const f of list) {
    if (!isObj(f)) continue;
    const purl = str((f.package as unknown as Obj | undefined)?.purl);
    const id = str(f.vulnerability_id);
    out.set(findingKey(id, purl), {
      vulnerability_id: id,
      purl,
      severity: (str(f.severity) || 'unknown') as Severity,
      fixed: Array.isArray(f.fixed_versions) ? [...f.fixed_versions].map(str).sort() : [],
      aliases: Array.isArray(f.aliases) ? f.aliases.map(str) : [],
      sources: Array.isArray(f.sources) ? f.sources.filter(isObj).map((s) => ({ id: str(s.id), path: str(s.path), sha256: str(s.sha256) })) : [],
    });
  }
  return out;
}

/** (vulnerability, product) → VEX status. OpenVEX 0.2.0 objects and 0.0.x strings are both read. */
export type VexModel = Map<string, { vulnerability: string; product: string; status: string }>;

export function vexModel(doc: unknown): VexModel {
  const out: VexModel = new Map();
  const statements = isObj(doc) && Array.isArray(doc.statements) ? doc.statements : [];
  for (const s of statements) {
    if (!isObj(s)) continue;
    const v = s.vulnerability;
    const vulnerability = isObj(v) ? str(v.name ?? v['@id']) : str(v);
    const products = Array.isArray(s.products) ? s.products : [];
    for (const p of products) {
      const product = isObj(p) ? str(p['@id']) : str(p);
      out.set(`${vulnerability}\u0000${product}`, { vulnerability, product, status: str(s.status) });
    }
  }
  return out;
}

export interface VerdictModel {
  decision: Decision;
  reasons: ReasonRef[];
}

export function verdictModel(doc: unknown): VerdictModel {
  const d = isObj(doc) ? doc : {};
  const reasons = Array.isArray(d.reasons) ? d.reasons.filter(isObj).map((r) => ({ code: str(r.code), subject: str(r.subject) })) : [];
  return { decision: str(d.decision) as Decision, reasons };
}
