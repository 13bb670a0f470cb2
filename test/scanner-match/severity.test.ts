// CVSS calculators against the FIRST specification examples, qualitative ratings, and the precedence
// between affected-level, record-level and database_specific severities on real GHSA records.
import { describe, expect, it } from 'vitest';
import {
  cvss2BaseScore,
  cvss3BaseScore,
  cvss4ConservativeSeverity,
  qualitativeSeverity,
  roundUp31,
  severityFromScore,
  severityOf,
} from '../../src/scanner/severity.js';
import type { OsvRecord } from '../../src/scanner/types.js';
import { record } from './load.js';

describe('CVSS v3.x base score', () => {
  // Scores from the CVSS v3.1 "Examples" document (FIRST) and NVD.
  const cases: Array<[string, number]> = [
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8], // CVE-2014-6271 Shellshock
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5], // CVE-2014-0160 Heartbleed
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1], // CVE-2013-1937 phpMyAdmin XSS
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4], // CVE-2013-0375 MySQL
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1], // CVE-2014-3566 POODLE
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9], // CVE-2012-1516 VMware
    ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 7.8], // CVE-2009-0658 Adobe Reader
    ['CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.8], // CVE-2011-1265 Bluetooth
    ['CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 6.8], // physical access
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    // Vectors of the real GHSA records in fixtures/.
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5], // GHSA-m5pq-gvj9-9vr8 regex
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L', 5.3], // GHSA-29mw-wpgm-hmr9 lodash
    ['CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 9.3], // GHSA-67hx-6x53-jw92 @babel/traverse
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L', 7.3], // GHSA-c4w7-xm78-47vh y18n
  ];
  for (const [vector, score] of cases) {
    it(`${vector} = ${score}`, () => expect(cvss3BaseScore(vector)).toBe(score));
  }
  it('metric order does not matter', () => {
    expect(cvss3BaseScore('CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N')).toBe(9.8);
  });
  it('rejects incomplete, repeated or unknown metrics', () => {
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H')).toBeNull();
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeNull();
    expect(cvss3BaseScore('CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeNull();
    expect(cvss3BaseScore('CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P')).toBeNull();
    expect(cvss3BaseScore('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeNull();
  });
  it('Roundup is immune to floating-point noise (v3.1 Appendix A)', () => {
    expect(roundUp31(4.000000000000001)).toBe(4.0);
    expect(roundUp31(4.02)).toBe(4.1);
    expect(roundUp31(4.0)).toBe(4.0);
  });
});

describe('CVSS v2 and v4', () => {
  it('computes v2 base scores', () => {
    expect(cvss2BaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toBe(7.5);
    expect(cvss2BaseScore('AV:N/AC:M/Au:N/C:N/I:P/A:N')).toBe(4.3);
    expect(cvss2BaseScore('AV:N/AC:L/Au:N/C:C/I:C/A:C')).toBe(10);
    expect(cvss2BaseScore('AV:L/AC:L/Au:N/C:N/I:N/A:N')).toBe(0);
    expect(cvss2BaseScore('AV:N/AC:L/Au:N/C:P/I:P')).toBeNull();
  });
  it('maps v4 vectors conservatively', () => {
    expect(cvss4ConservativeSeverity('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toBe('critical');
    expect(cvss4ConservativeSeverity('CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe('high');
    expect(cvss4ConservativeSeverity('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:N/SA:N')).toBe('high');
    expect(cvss4ConservativeSeverity('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe('medium');
    expect(cvss4ConservativeSeverity('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe('none');
    expect(cvss4ConservativeSeverity('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:Q/VI:N/VA:N/SC:N/SI:N/SA:N')).toBeNull();
  });
});

describe('qualitative ratings', () => {
  it('bands scores as CVSS v3.1 §5', () => {
    expect([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityFromScore)).toEqual([
      'none', 'low', 'low', 'medium', 'medium', 'high', 'high', 'critical', 'critical',
    ]);
  });
  it('lowercases GHSA database_specific.severity, MODERATE → medium', () => {
    expect(['CRITICAL', 'HIGH', 'MODERATE', 'LOW', 'Medium', 'bogus', 3].map(qualitativeSeverity)).toEqual([
      'critical', 'high', 'medium', 'low', 'medium', null, null,
    ]);
  });
});

describe('severityOf on real records', () => {
  it('uses the record CVSS v3 vector before database_specific', () => {
    // GHSA-67hx-6x53-jw92: vector scores 9.3; database_specific says CRITICAL too.
    expect(severityOf(record('GHSA-67hx-6x53-jw92').record, 0)).toEqual({
      severity: 'critical',
      cvss_vector: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      cvss_score: 9.3,
    });
    // GHSA-c4w7-xm78-47vh: the vector (7.3 → high) agrees with database_specific HIGH.
    expect(severityOf(record('GHSA-c4w7-xm78-47vh').record, 1).cvss_score).toBe(7.3);
  });
  it('falls back to database_specific when the record has no vector', () => {
    // GHSA-952p-6rrq-rcjv (micromatch): severity [] and database_specific.severity MODERATE.
    expect(record('GHSA-952p-6rrq-rcjv').record.severity).toEqual([]);
    expect(severityOf(record('GHSA-952p-6rrq-rcjv').record, 0)).toEqual({ severity: 'medium', cvss_vector: null, cvss_score: null });
  });
  it('reports unknown for records without any severity (Go vulndb, PYSEC)', () => {
    expect(severityOf(record('GO-2021-0113').record, 0).severity).toBe('unknown');
    expect(severityOf(record('PYSEC-2021-439').record, 0).severity).toBe('unknown');
  });
  it('prefers affected-level severity, pairs a v4 vector with database_specific', () => {
    const base = record('GHSA-m5pq-gvj9-9vr8').record;
    const withAffected: OsvRecord = {
      ...base,
      affected: [{ ...base.affected![0], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N' }] }],
    };
    expect(severityOf(withAffected, 0)).toMatchObject({ severity: 'low', cvss_score: 3.1 });
    expect(severityOf(withAffected, -1)).toMatchObject({ severity: 'high', cvss_score: 7.5 });
    const v4only: OsvRecord = {
      ...base,
      severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }],
    };
    // database_specific HIGH wins over the conservative "critical"; no v4 score is invented.
    expect(severityOf(v4only, 0)).toEqual({
      severity: 'high',
      cvss_vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
      cvss_score: null,
    });
    const { database_specific: _drop, ...noDb } = v4only;
    expect(severityOf(noDb, 0).severity).toBe('critical');
  });
});
