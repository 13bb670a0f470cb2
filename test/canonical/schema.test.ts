// The canonical form must still be a valid document: every real CycloneDX SBOM validates against its
// declared specVersion after canonicalization, and the validators themselves are proven on upstream's
// own valid-*/invalid-* conformance cases.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { canonicalizeArtifact } from '../../src/core/canonical/index.js';
import { THIRD_PARTY } from '../helpers/cli.js';
import { validateCycloneDx, validateOpenVex } from '../helpers/validators.js';

const SBOM_DIR = path.join(THIRD_PARTY, 'sboms/cyclonedx');
const SBOMS = readdirSync(SBOM_DIR).filter((f) => f.endsWith('.json')).sort();
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

describe('canonical CycloneDX stays schema-valid', () => {
  for (const f of SBOMS) {
    it(`${f}: original and canonical form validate against their specVersion`, () => {
      const doc = readJson(path.join(SBOM_DIR, f));
      const spec = doc.specVersion as string;
      expect(validateCycloneDx(doc, spec)).toEqual([]);
      const canon = JSON.parse(canonicalizeArtifact('cyclonedx-1.6', doc).bytes.toString('utf8'));
      expect(validateCycloneDx(canon, spec)).toEqual([]);
    });
  }

  it('a broken canonical SBOM is caught (the validator is not a rubber stamp)', () => {
    const doc = readJson(path.join(SBOM_DIR, 'juice-shop-14.1.1.npm.cdx-1.6.json'));
    const comps = doc.components as Array<Record<string, unknown>>;
    comps[3] = { ...comps[3], type: 'not-a-type' };
    const errors = validateCycloneDx(doc, '1.6');
    expect(errors.some((e) => e.startsWith('/components/3/type'))).toBe(true);
  });
});

describe('CycloneDX validator on upstream conformance cases', () => {
  for (const version of ['1.5', '1.6']) {
    const dir = path.join(THIRD_PARTY, 'cyclonedx-schema/testcases', version);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    it(`${version}: finds both kinds of case`, () => {
      expect(files.filter((f) => f.startsWith('valid-')).length).toBeGreaterThan(20);
      expect(files.filter((f) => f.startsWith('invalid-')).length).toBeGreaterThan(15);
    });
    for (const f of files) {
      const doc = readJson(path.join(dir, f));
      if (f.startsWith('valid-')) {
        // Includes valid-signatures/attestation/standard: they pass only because the JSF `algorithm`
        // oneOf quirk is tolerated (fixtures/third_party/README.md §2).
        it(`${version}/${f} passes`, () => expect(validateCycloneDx(doc, version)).toEqual([]));
      } else if (f.startsWith('invalid-metadata-timestamp')) {
        // A bad date-time is only caught with format assertion on (README §2 (a)).
        it(`${version}/${f} passes with formats off and fails with formats on`, () => {
          expect(validateCycloneDx(doc, version)).toEqual([]);
          expect(validateCycloneDx(doc, version, { formats: true }).some((e) => e.includes('date-time'))).toBe(true);
        });
      } else {
        it(`${version}/${f} fails`, () => expect(validateCycloneDx(doc, version).length).toBeGreaterThan(0));
      }
    }
  }
});

describe('OpenVEX validator', () => {
  // The upstream OpenVEX 0.2.0 documents that are schema-valid as published. (Others in fixtures are
  // deliberately partial test inputs: no timestamp/version, or a statement property the schema lacks.)
  const V020 = [
    'vex/go-vex/pkg/vex/testdata/v0.2.0.json',
    'vex/vexctl/examples/csaf/openvex.json',
    'vex/vexctl/examples/openvex/demo.vex.json',
    'vex/vexctl/examples/openvex/document1.vex.json',
    'vex/vexctl/examples/openvex/document2.vex.json',
    'vex/vexctl/pkg/ctl/testdata/templates/oci-vexctl.openvex.json',
  ];
  for (const rel of V020) {
    it(`${rel}: original and canonical form validate`, () => {
      const doc = readJson(path.join(THIRD_PARTY, rel));
      expect(validateOpenVex(doc)).toEqual([]);
      const canon = JSON.parse(canonicalizeArtifact('openvex-0.2.0', doc).bytes.toString('utf8'));
      // Canonicalization drops the document timestamp, which the schema requires: put a fixed one back
      // the way a writer with a frozen clock would.
      expect(validateOpenVex({ timestamp: '2025-12-12T10:15:30Z', ...canon })).toEqual([]);
    });
  }

  it('rejects partial upstream inputs, an unknown status and a document without statements', () => {
    const partial = readJson(path.join(THIRD_PARTY, 'vex/go-vex/pkg/vex/testdata/v020-1.vex.json'));
    expect(validateOpenVex(partial)).toEqual(["/: must have required property 'timestamp'", "/: must have required property 'version'"]);
    const doc = readJson(path.join(THIRD_PARTY, 'vex/vexctl/examples/openvex/demo.vex.json'));
    expect(validateOpenVex(doc)).toEqual([]);
    const statements = doc.statements as Array<Record<string, unknown>>;
    const bad = { ...doc, statements: [{ ...statements[0], status: 'maybe' }] };
    expect(validateOpenVex(bad).some((e) => e.startsWith('/statements/0/status'))).toBe(true);
    const { statements: _drop, ...noStatements } = doc;
    expect(validateOpenVex(noStatements).length).toBeGreaterThan(0);
  });
});
