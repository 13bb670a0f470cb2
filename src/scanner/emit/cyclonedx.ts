// CycloneDX 1.6 SBOM of the scanned packages. Normalize first (a sorted plain object), serialize later:
// components by (purl, location), dependencies by ref, bom-ref = purl (unique after dedupe, and the
// identity the findings and VEX use). serialNumber is a UUID derived from the rest of the document.
import { compareCodeUnits } from '../../core/canonical/index.js';
import type { ScanManifest } from '../../core/formats.js';
import type { ScanPackage } from '../types.js';
import { contentHex, uuidFromHex } from './ids.js';

export interface CycloneDxOptions {
  manifest: Pick<ScanManifest, 'scanner' | 'environment' | 'labels' | 'input'>;
  /** Fault switch `wallclock`: the real time at run, recorded as a property (read only in entry.ts). */
  wallclock?: Date;
}

type Json = Record<string, unknown>;

export function buildCycloneDx(packages: ScanPackage[], opts: CycloneDxOptions): Json {
  const m = opts.manifest;
  const sorted = [...packages].sort((a, b) => compareCodeUnits(a.purl, b.purl) || compareCodeUnits(a.location, b.location));
  const refs = new Set(sorted.map((p) => p.purl));
  const components = sorted.map((p) => ({
    type: 'library',
    'bom-ref': p.purl,
    name: p.name,
    version: p.version,
    purl: p.purl,
    properties: [{ name: 'stella:ecosystem', value: p.ecosystem }, ...(p.layer ? [{ name: 'stella:layer_diff_id', value: p.layer }] : [])],
    // Image inputs: where in which layer the package was found (`<diff_id>:<path>`).
    ...(p.layer ? { evidence: { occurrences: [{ location: p.location }] } } : {}),
  }));
  const dependencies = sorted.map((p) => ({
    ref: p.purl,
    dependsOn: [...new Set((p.dependsOn ?? []).filter((d) => refs.has(d) && d !== p.purl))].sort(compareCodeUnits),
  }));
  const properties: Array<{ name: string; value: string }> = [
    { name: 'stella:input_digest', value: m.input.digest },
    { name: 'stella:scanner_version', value: m.scanner.scanner_version },
  ];
  if (opts.wallclock) properties.push({ name: 'stella:generated_at_wallclock', value: opts.wallclock.toISOString() });
  const body: Json = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      timestamp: m.environment.clock_value,
      tools: { components: [{ type: 'application', author: 'stella', name: 'stella', version: m.scanner.scanner_version }] },
      component: { type: 'application', 'bom-ref': 'stella:subject', name: m.labels.project || 'unnamed' },
      properties,
    },
    components,
    dependencies,
  };
  // The serial number names this content: same packages and clock → same serial, a changed BOM → a new one.
  const serialNumber = `urn:uuid:${uuidFromHex(contentHex(body))}`;
  return { bomFormat: body.bomFormat, specVersion: body.specVersion, serialNumber, ...body };
}
