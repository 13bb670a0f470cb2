// BF / SF / PF on real records: what each level ignores and what it catches.
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { allFeed, buildRecord, type BuildOptions } from './records.js';
import { compareDirs } from '../../src/app/compare.js';
import { CLASSIFIER_VERSION } from '../../src/core/classify/index.js';

const root = tempDir('stella-levels-');
const dir = (n: string) => path.join(root, n);
type Obj = Record<string, unknown>;

/** Every object's keys in reverse order, no whitespace: same JSON value, other bytes. */
const reverseKeys = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(reverseKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reverseKeys((v as Obj)[k])])) : v;

const pair = (name: string, bOpts: Partial<BuildOptions>, aOpts: Partial<BuildOptions> = {}) => {
  const feed = allFeed();
  const a = buildRecord(dir(`${name}-a`), { feed, ...aOpts });
  const b = buildRecord(dir(`${name}-b`), { feed, pinnedManifest: a.manifest, replayOf: { scanId: a.manifest.scan_id }, ...bOpts });
  return { a: a.dir, b: b.dir };
};

describe('levels', () => {
  test('SF (and BF) ignore key order, whitespace and volatile fields; the raw bytes differ → unstable_raw_order', async () => {
    const { a, b } = pair('noise', {
      write: (_n, d) => JSON.stringify(reverseKeys(d)),
      sbom: (d) => ({ ...d, serialNumber: 'urn:uuid:5d1c7a2e-3b4f-4c6d-9e8f-0a1b2c3d4e5f', metadata: { ...(d.metadata as Obj), timestamp: '2026-01-05T09:00:03Z' } }),
    });
    const res = await compareDirs(a, b);
    expect(res.comparison.bf.artifacts.map((x) => [x.name, x.canonical_equal, x.raw_equal])).toEqual([
      ['sbom', true, false],
      ['findings', true, false],
      ['vex', true, false],
      ['verdict', true, false],
    ]);
    expect([res.comparison.bf.match, res.comparison.sf.match, res.comparison.pf.match]).toEqual([true, true, true]);
    expect(res.comparison.warnings).toEqual(['unstable_raw_order:findings', 'unstable_raw_order:sbom', 'unstable_raw_order:verdict', 'unstable_raw_order:vex']);
    expect(res.classification).toEqual({ mismatch_reason: null, subtags: [], evidence: [], classifier_version: CLASSIFIER_VERSION });
  });

  test('a permuted set (components shuffled) keeps BF; only the raw hash moves', async () => {
    const { a, b } = pair('set-order', { sbom: (d) => ({ ...d, components: [...(d.components as unknown[])].reverse() }) });
    const res = await compareDirs(a, b);
    expect(res.comparison.bf.match).toBe(true);
    expect(res.comparison.warnings).toEqual(['unstable_raw_order:sbom']);
  });

  test('BF catches an ordering-only change inside a real sequence; SF does not see it', async () => {
    // findings[].fixed_versions is a sequence to the canonicalizer: reversing it is a BF failure.
    const { a, b } = pair('seq-order', {
      write: (n, d) => {
        if (n !== 'findings') return JSON.stringify(d, null, 2);
        const doc = structuredClone(d) as { findings: Array<{ vulnerability_id: string; fixed_versions: string[] }> };
        for (const f of doc.findings) if (f.vulnerability_id === 'GHSA-3h5v-q93c-6h6q') f.fixed_versions.reverse();
        return JSON.stringify(doc, null, 2);
      },
    });
    const res = await compareDirs(a, b);
    expect(res.comparison.bf.artifacts.filter((x) => !x.canonical_equal).map((x) => x.name)).toEqual(['findings']);
    expect([res.comparison.bf.match, res.comparison.sf.match, res.comparison.pf.match]).toEqual([false, true, true]);
    const i = (res.a.artifacts.findings.doc as { findings: Array<{ vulnerability_id: string }> }).findings.findIndex((f) => f.vulnerability_id === 'GHSA-3h5v-q93c-6h6q');
    expect(res.classification).toEqual({
      mismatch_reason: 'nondeterminism',
      subtags: ['ordering'],
      evidence: [{ kind: 'permutation', artifact: 'findings', path: `$.findings[${i}].fixed_versions`, subtag: 'ordering' }],
      classifier_version: CLASSIFIER_VERSION,
    });
  });

  test('SF lists packages added/removed/changed, vulnerabilities appeared/disappeared, VEX flips, verdict', async () => {
    const edit = (d: Obj): Obj => {
      const comps = (d.components as Obj[]).map((c) => ({ ...c }));
      const ws = comps.find((c) => c.name === 'ws' && c.version === '7.4.6')!;
      ws.version = '7.5.10';
      ws.purl = String(ws.purl).replace('@7.4.6', '@7.5.10');
      const gone = new Set([comps.findIndex((c) => c.name === 'moment' && c.version === '2.0.0'), comps.findIndex((c) => c.name === 'helper-string-parser')]);
      const kept = comps.filter((_, i) => !gone.has(i));
      kept.push({ type: 'library', name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0', 'bom-ref': 'left-pad@1.3.0' });
      return { ...d, components: kept };
    };
    const policy = { threshold: 'high' as const, fix_age_days: null };
    const { a, b } = pair('sf', { sbom: edit, policy }, { policy });
    const res = await compareDirs(a, b);
    const sf = res.comparison.sf;
    expect(sf.packages).toEqual({
      added: [{ key: 'pkg:npm/left-pad', versions: ['1.3.0'] }],
      removed: [{ key: 'pkg:npm/%40babel/helper-string-parser', versions: ['7.24.7'] }],
      changed: [
        { key: 'pkg:npm/moment', a: ['2.0.0', '2.30.1'], b: ['2.30.1'] },
        { key: 'pkg:npm/ws', a: ['7.4.6'], b: ['7.5.10'] },
      ],
    });
    // moment@2.0.0 left, so its finding disappeared; ws@7.4.6 became 7.5.10 (fixed), so its finding did too.
    expect(sf.vulnerabilities).toEqual({
      appeared: [],
      disappeared: [
        { vulnerability_id: 'GHSA-3h5v-q93c-6h6q', purl: 'pkg:npm/ws@7.4.6', severity: 'high' },
        { vulnerability_id: 'GHSA-8hfj-j24r-96c4', purl: 'pkg:npm/moment@2.0.0', severity: 'high' },
      ],
      severity_changed: [],
      fix_changed: [],
    });
    expect(sf.vex.status_flips).toEqual([
      { vulnerability: 'GHSA-3h5v-q93c-6h6q', product: 'pkg:npm/ws@7.4.6', a: 'affected', b: null },
      { vulnerability: 'GHSA-8hfj-j24r-96c4', product: 'pkg:npm/moment@2.0.0', a: 'affected', b: null },
    ]);
    expect(sf.verdict.reasons.removed).toEqual([
      { code: 'SEV_HIGH', subject: 'pkg:npm/moment@2.0.0' },
      { code: 'SEV_HIGH', subject: 'pkg:npm/ws@7.4.6' },
    ]);
    expect(sf.match).toBe(false);
  });
});
