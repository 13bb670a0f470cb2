// The versioned canonicalization rules (SPEC §1.3). This table IS the contract behind BF: changing what
// is removed or how a list is ordered changes canonical hashes, so any edit here bumps
// CANONICALIZER_VERSION (recorded in every manifest as normalization.canonicalizer_version).
//
// Rules are declarative data so they can be printed, diffed and hashed (RULES_DIGEST):
// - `volatileAt`: root-anchored paths removed because they only record wall time or a random id.
// - `volatileKeys`: keys removed wherever they occur (scan durations, host names).
// - `sets`: an array stored under one of these object keys is a SET; it is sorted by the listed
//   fields (dotted paths into the item, `.` = the item itself when it is a string), then by its
//   canonical bytes, so the order is total. Every array not listed is a real sequence (version ranges,
//   OSV events, matcher `sources`) and keeps its order.
import type { ArtifactSchema } from '../formats.js';
import { canonicalDigest } from './jcs.js';

export const CANONICALIZER_VERSION = '1.0.0';

export interface SchemaRules {
  /** Root-anchored paths of values removed before hashing. */
  readonly volatileAt: ReadonlyArray<readonly string[]>;
  /** Object keys removed at any depth. */
  readonly volatileKeys: readonly string[];
  /** Object key → sort fields of the set-like array stored under that key. */
  readonly sets: Readonly<Record<string, readonly string[]>>;
}

// Keys no artifact schema defines; when a producer adds them they only describe the run, not the result.
const RUN_NOISE_KEYS = ['scan_duration_ms', 'duration_ms', 'hostname'] as const;

// Sort fields shared by CycloneDX objects that can appear at many depths.
const CDX_COMPONENT = ['purl', 'version', 'name', 'group', 'bom-ref'];

export const RULES: Readonly<Record<ArtifactSchema, SchemaRules>> = deepFreeze({
  'cyclonedx-1.6': {
    volatileAt: [['serialNumber'], ['metadata', 'timestamp']],
    volatileKeys: RUN_NOISE_KEYS,
    sets: {
      // `components` at every depth: root, nested components, metadata.component.components, tools.components.
      components: CDX_COMPONENT,
      services: ['bom-ref', 'group', 'name', 'version'],
      dependencies: ['ref'],
      dependsOn: ['.'],
      provides: ['.'],
      // Sorted after their `affects` (children are normalized first), so "first affects ref" is stable.
      vulnerabilities: ['id', 'affects.0.ref'],
      affects: ['ref'],
      licenses: ['license.id', 'license.name', 'expression'],
      hashes: ['alg', 'content'],
      properties: ['name', 'value'],
      externalReferences: ['type', 'url'],
      // CycloneDX ≤ 1.4 `metadata.tools` is an array of {vendor, name, version}; 1.5+ nests
      // `components`/`services`, which the rules above already cover.
      tools: ['vendor', 'name', 'version'],
    },
  },
  'openvex-0.2.0': {
    // Document `timestamp`/`last_updated` record when the document was written (wall time); statement
    // timestamps say when a VEX claim was made and stay.
    volatileAt: [['timestamp'], ['last_updated']],
    volatileKeys: RUN_NOISE_KEYS,
    sets: {
      // `vulnerability` is a string in OpenVEX 0.0.1 and an object from 0.2.0; products likewise.
      statements: ['vulnerability.name', 'vulnerability.@id', 'vulnerability', 'products.0.@id', 'products.0'],
      products: ['@id', '.'],
      subcomponents: ['@id', '.'],
      aliases: ['.'],
    },
  },
  'stella-findings-v1': {
    volatileAt: [],
    volatileKeys: RUN_NOISE_KEYS,
    // `sources` is NOT a set: it records the order in which matchers hit feed records.
    sets: {
      findings: ['vulnerability_id', 'package.purl'],
      aliases: ['.'],
    },
  },
  'stella-verdict-v1': {
    volatileAt: [],
    volatileKeys: RUN_NOISE_KEYS,
    sets: {
      reasons: ['code', 'subject', 'detail'],
    },
  },
} satisfies Record<ArtifactSchema, SchemaRules>);

// Frozen all the way down: a caller mutating a rule at run time would silently change every hash.
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Hash of the rules table itself: two canonicalizers with the same version must agree on it. */
export const RULES_DIGEST = canonicalDigest({ version: CANONICALIZER_VERSION, rules: RULES });
