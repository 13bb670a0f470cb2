import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { runStella, REPO } from '../helpers/cli.js';
import { tempDir, listFiles } from '../helpers/tmp.js';
import { validateManifest, MANIFEST_FIELDS, manifestSha256, unpinnedFields } from '../../src/core/manifest/index.js';
import { jsonPath } from '../../src/core/errors.js';
import type { ScanManifest } from '../../src/core/formats.js';

const EXAMPLE = path.join(REPO, 'fixtures/manifests/example.manifest.json');
const example = (): ScanManifest => JSON.parse(readFileSync(EXAMPLE, 'utf8'));

function withValue(m: unknown, segs: readonly string[], v: unknown): unknown {
  const copy = structuredClone(m) as Record<string, unknown>;
  let cur = copy;
  for (const s of segs.slice(0, -1)) cur = cur[s] as Record<string, unknown>;
  if (v === undefined) delete cur[segs[segs.length - 1]];
  else cur[segs[segs.length - 1]] = v;
  return copy;
}

describe('ScanManifest v1 validation (pure)', () => {
  it('accepts the example manifest', () => {
    const r = validateManifest(example());
    expect(r.ok).toBe(true);
  });

  it('reports each missing required field by its JSON path', () => {
    for (const [segs] of MANIFEST_FIELDS) {
      const r = validateManifest(withValue(example(), segs, undefined));
      expect(r.ok, segs.join('.')).toBe(false);
      if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual([jsonPath(segs)]);
    }
  });

  it('rejects malformed digests with the field path', () => {
    for (const bad of ['sha256:ABC', 'md5:' + 'a'.repeat(32), 'sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'a'.repeat(64)]) {
      const r = validateManifest(withValue(example(), ['input', 'digest'], bad));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors[0].path).toBe('$.input.digest');
    }
  });

  it('reads minor version bumps and refuses other majors', () => {
    const minor = validateManifest({ ...example(), manifest_version: '1.7', future_field: { x: 1 } });
    expect(minor.ok).toBe(true);
    const major = validateManifest({ ...example(), manifest_version: '2.0' });
    expect(major.ok).toBe(false);
    if (!major.ok) {
      expect(major.errors[0].path).toBe('$.manifest_version');
      expect(major.errors[0].message).toMatch(/2\.0 is not supported/);
    }
  });

  it('accepts an unpinned historical feed but lists it as unpinned', () => {
    const m = withValue(example(), ['feeds', 'vuln_feed_bundle_digest'], 'latest') as ScanManifest;
    expect(validateManifest(m).ok).toBe(true);
    expect(unpinnedFields(m)).toEqual(['$.feeds.vuln_feed_bundle_digest']);
    expect(unpinnedFields(example())).toEqual([]);
  });

  it('manifest_sha256 ignores key order and whitespace but not values', () => {
    const m = example();
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(m).reverse())));
    expect(manifestSha256(reordered)).toBe(manifestSha256(m));
    expect(manifestSha256({ ...m, scan_id: 'scan_other' })).not.toBe(manifestSha256(m));
    expect(manifestSha256(m)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('stella manifest (CLI)', () => {
  const dir = tempDir();

  it('validates the example and prints its hash', async () => {
    const v = await runStella(['manifest', 'validate', EXAMPLE]);
    expect(v.code).toBe(0);
    const h = await runStella(['manifest', 'hash', EXAMPLE]);
    expect(h.code).toBe(0);
    expect(h.stdout).toBe(`${manifestSha256(example())}  ${EXAMPLE}\n`);
  });

  it('names the file and JSON path for every missing field, one line, exit 2', async () => {
    // A CLI round per field is slow; the pure test covers all. Here: a sample across every section.
    for (const segs of [['scan_id'], ['input', 'digest'], ['feeds', 'license_db_digest'], ['environment', 'cpus'], ['labels', 'regulated']]) {
      const f = path.join(dir, `missing-${segs.join('-')}.json`);
      writeFileSync(f, JSON.stringify(withValue(example(), segs, undefined), null, 2));
      const r = await runStella(['manifest', 'hash', f]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${f}: ${jsonPath(segs)}: required field is missing`);
    }
  });

  it('refuses truncated JSON and invalid UTF-8 naming file and path', async () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const trunc = path.join(dir, 'truncated.json');
    writeFileSync(trunc, text.slice(0, text.indexOf('"policy_set"') + 5));
    const r1 = await runStella(['manifest', 'validate', trunc]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(new RegExp(`^stella manifest: ${trunc.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\$\\.policy: truncated JSON`));
    expect(r1.stderr.trim().split('\n')).toHaveLength(1);

    const bad = path.join(dir, 'bad-utf8.json');
    const bytes = Buffer.from(text, 'utf8');
    const at = bytes.indexOf(Buffer.from('ripgrep"'));
    bytes[at] = 0xff;
    writeFileSync(bad, bytes);
    const r2 = await runStella(['manifest', 'validate', bad]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${bad}: $: invalid UTF-8 at byte ${at}`);
  });

  it('refuses a malformed digest and an unknown major version', async () => {
    const f = path.join(dir, 'bad-digest.json');
    writeFileSync(f, JSON.stringify(withValue(example(), ['feeds', 'vuln_feed_bundle_digest'], 'sha256:1234')));
    const r = await runStella(['manifest', 'hash', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: $.feeds.vuln_feed_bundle_digest: must be sha256:`);

    const g = path.join(dir, 'v2.json');
    writeFileSync(g, JSON.stringify({ ...example(), manifest_version: '2.0' }));
    const r2 = await runStella(['manifest', 'hash', g]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${g}: $.manifest_version: manifest version 2.0 is not supported`);
  });

  it('signs and verifies; a tampered manifest is refused and nothing is written', async () => {
    const keys = path.join(dir, 'keys');
    expect((await runStella(['manifest', 'keygen', '--out-dir', keys])).code).toBe(0);
    const scanDir = path.join(dir, 'scan');
    mkdirSync(scanDir);
    const m = path.join(scanDir, 'manifest.json');
    writeFileSync(m, readFileSync(EXAMPLE));
    const s = await runStella(['manifest', 'sign', m, '--key', path.join(keys, 'stella-signing.key')]);
    expect(s.code).toBe(0);
    expect(existsSync(path.join(scanDir, 'manifest.sig'))).toBe(true);
    const ok = await runStella(['manifest', 'verify', m, '--pub', path.join(keys, 'stella-signing.pub')]);
    expect(ok.code).toBe(0);

    // Reformatting keeps the signature valid (canonical bytes are signed)...
    writeFileSync(m, JSON.stringify(JSON.parse(readFileSync(m, 'utf8'))));
    expect((await runStella(['manifest', 'verify', m, '--pub', path.join(keys, 'stella-signing.pub')])).code).toBe(0);
    // ...changing one value does not.
    writeFileSync(m, readFileSync(m, 'utf8').replace('"cpus":2', '"cpus":4'));
    const before = listFiles(scanDir);
    const bad = await runStella(['manifest', 'verify', m, '--pub', path.join(keys, 'stella-signing.pub')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`stella manifest: ${m}: $: signature does not match: the manifest was modified after signing (or signed with another key)`);
    expect(listFiles(scanDir)).toEqual(before);
  });
});
