// OpenVEX 0.2.0: one statement per finding. Status `affected` with an action statement naming the fix,
// unless the policy pins a vendor statement for that vulnerability and product, whose status wins.
// Document and statement ids are derived from content; the `random-ids` fault swaps in UUID4s.
import { compareCodeUnits } from '../../core/canonical/index.js';
import type { Finding } from '../../core/formats.js';
import type { CompiledPolicy, VexStatement } from '../../core/policy/policy.js';
import { purlMatches } from '../../core/policy/policy.js';
import { contentHex } from './ids.js';

export const OPENVEX_CONTEXT = 'https://openvex.dev/ns/v0.2.0';

// OpenVEX's closed set of justifications; free text from a policy goes to impact_statement instead.
const JUSTIFICATIONS = new Set([
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
]);

export interface OpenVexOptions {
  clock: string;
  scannerVersion: string;
  policy: Pick<CompiledPolicy, 'vex' | 'policy_set'>;
  /** Fault switch `random-ids`: id generator used instead of content hashes (crypto.randomUUID in entry.ts). */
  randomUUID?: () => string;
}

type Json = Record<string, unknown>;

function vendorStatement(f: Finding, vex: readonly VexStatement[]): VexStatement | undefined {
  const ids = [f.vulnerability_id, ...f.aliases];
  // Statements are sorted by the policy compiler, so "first match" is stable.
  return vex.find((v) => ids.includes(v.vulnerability) && purlMatches(v.product, f.package.purl));
}

function statementFor(f: Finding, opts: OpenVexOptions): Json {
  const vulnerability: Json = { name: f.vulnerability_id };
  if (f.aliases.length) vulnerability.aliases = [...f.aliases].sort(compareCodeUnits);
  const s: Json = { vulnerability, products: [{ '@id': f.package.purl }] };
  const vendor = vendorStatement(f, opts.policy.vex);
  const fix = f.fixed_versions.length ? `upgrade ${f.package.name} to ${f.fixed_versions.join(' or ')}` : `no fixed version of ${f.package.name} is known; remove or replace it`;
  if (!vendor || vendor.status === 'affected') {
    s.status = 'affected';
    s.action_statement = fix;
    if (vendor?.impact_statement) s.impact_statement = vendor.impact_statement;
  } else {
    s.status = vendor.status;
    if (vendor.justification && JUSTIFICATIONS.has(vendor.justification)) s.justification = vendor.justification;
    const impact = vendor.impact_statement ?? (vendor.justification && !JUSTIFICATIONS.has(vendor.justification) ? vendor.justification : null);
    if (impact) s.impact_statement = impact;
    s.status_notes = `vendor statement pinned in policy ${opts.policy.policy_set}`;
  }
  return s;
}

/**
 * OpenVEX requires at least one statement. With no findings the document still has to say something
 * true: no vulnerability of the pinned feed matched, stated once, with no product named.
 */
const NOTHING_MATCHED: Json = {
  vulnerability: { name: 'NOASSERTION', description: 'no vulnerability in the pinned feed matched any scanned package' },
  status: 'not_affected',
  impact_statement: 'the scan found no package version named by any advisory in the pinned feed bundle',
};

export function buildOpenVex(findings: Finding[], opts: OpenVexOptions): Json {
  const statements = (findings.length ? findings.map((f) => statementFor(f, opts)) : [NOTHING_MATCHED])
    .sort(
      (a, b) =>
        compareCodeUnits((a.vulnerability as Json).name as string, (b.vulnerability as Json).name as string) ||
        compareCodeUnits(((a.products as Json[] | undefined)?.[0]?.['@id'] ?? '') as string, ((b.products as Json[] | undefined)?.[0]?.['@id'] ?? '') as string),
    )
    .map((s) => ({ '@id': opts.randomUUID ? `urn:uuid:${opts.randomUUID()}` : `urn:stella:vex-statement:${contentHex(s).slice(0, 32)}`, ...s }));
  const body = { statements };
  const id = opts.randomUUID ? `urn:uuid:${opts.randomUUID()}` : `urn:stella:vex:${contentHex(body)}`;
  return {
    '@context': OPENVEX_CONTEXT,
    '@id': id,
    author: 'stella',
    timestamp: opts.clock,
    version: 1,
    tooling: `stella ${opts.scannerVersion}`,
    statements,
  };
}
