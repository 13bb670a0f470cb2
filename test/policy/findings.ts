// Findings built from real GHSA records in fixtures/ (id, aliases, package, severity, fixed version,
// published date), as the scanner would report them for a given installed version.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding, Severity } from '../../src/core/formats.js';
import type { OsvRecord } from '../../src/scanner/types.js';
import { THIRD_PARTY } from '../helpers/cli.js';

const SEV: Record<string, Severity> = { CRITICAL: 'critical', HIGH: 'high', MODERATE: 'medium', LOW: 'low' };

export function ghsa(id: string): OsvRecord {
  return JSON.parse(readFileSync(path.join(THIRD_PARTY, 'osv/ghsa', `${id}.json`), 'utf8')) as OsvRecord;
}

export function findingFrom(id: string, version: string, over: Partial<Finding> = {}): Finding {
  const r = ghsa(id);
  const a = r.affected![0]!;
  const eco = a.package!.ecosystem;
  const name = a.package!.name;
  const type = eco === 'npm' ? 'npm' : eco === 'Maven' ? 'maven' : eco === 'crates.io' ? 'cargo' : eco.toLowerCase();
  const purlName = type === 'maven' ? name.replace(':', '/') : name.replace(/^@/, '%40');
  const fixed = (a.ranges ?? []).flatMap((g) => g.events.flatMap((e) => (e.fixed ? [e.fixed] : [])));
  return {
    id: `f-${id}-${name}`,
    vulnerability_id: r.id,
    aliases: [...(r.aliases ?? [])].sort(),
    package: { ecosystem: eco, name, version, purl: `pkg:${type}/${purlName}@${version}` },
    severity: SEV[String((r.database_specific as { severity?: string }).severity)] ?? 'unknown',
    cvss_vector: null,
    cvss_score: null,
    fixed_versions: fixed,
    summary: r.summary ?? '',
    published: r.published ?? null,
    modified: r.modified,
    fix_available_since: fixed.length ? (r.published ?? null) : null,
    sources: [{ id: r.id, path: `feeds/ghsa/${eco}/${r.id}.json`, sha256: `sha256:${'0'.repeat(64)}` }],
    ...over,
  };
}
