import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildFeedBundle, diffFeedRecords, FIXTURE_SOURCES, openFeedBundle, resolveFeedRef } from '../../src/app/feed.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { packTar, unpackTar } from '../../src/adapters/tar.js';
import { zstdCompress, zstdDecompress } from '../../src/adapters/zstd.js';
import { StellaError } from '../../src/core/errors.js';
import { THIRD_PARTY, runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import { rawEntry, rawTar } from './craft.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: depending on the loader its default import is the plugin or the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;

const OSV = path.join(THIRD_PARTY, 'osv');
const work = tempDir('stella-feed-');
const home = path.join(work, 'home');
const env = { STELLA_HOME: home };

async function snapshot(src: string, out: string, extra: string[] = []) {
  return runStella(['feed', 'snapshot', src, '--out', out, ...extra], { cwd: work, env });
}

/** Copy a tree file by file in reverse order with scrambled mtimes: same content, other filesystem facts. */
function scrambledCopy(src: string, dst: string): void {
  const files = listFiles(src).reverse();
  files.forEach((rel, i) => {
    const to = path.join(dst, rel);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, readFileSync(path.join(src, rel)));
    utimesSync(to, 1_500_000_000 + i * 977, 1_600_000_000 - i * 131);
  });
}

let full: { file: string; digest: string };

beforeAll(async () => {
  const file = path.join(work, 'full.tar.zst');
  const r = await snapshot(OSV, file);
  expect(r.code, r.stderr).toBe(0);
  full = { file, digest: r.stdout.trim() };
}, 60_000);

describe('feed snapshot', () => {
  it('prints the digest of the written bytes and stores the bundle in the blob store', () => {
    expect(full.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const bytes = readFileSync(full.file);
    expect(new BlobStore(home).get(full.digest).equals(bytes)).toBe(true);
  });

  it('gives the same digest for the same tree, for a copy with other mtimes/order, and in-process', async () => {
    const again = await snapshot(OSV, path.join(work, 'again.tar.zst'));
    expect(again.stdout.trim()).toBe(full.digest);
    const copy = path.join(work, 'copy');
    scrambledCopy(OSV, copy);
    const fromCopy = await snapshot(copy, path.join(work, 'copy.tar.zst'));
    expect(fromCopy.stdout.trim()).toBe(full.digest);
    const built = await buildFeedBundle(OSV);
    expect(built.digest).toBe(full.digest);
    // The duplicates (linter-case variants of real records) are resolved by content, not by walk order.
    expect(built.duplicates.map((d) => d.id)).toEqual(['CVE-2018-5407', 'CVE-2023-41045', 'GHSA-9v2f-6vcg-3hgv', 'GO-2020-0001', 'PYSEC-2023-74']);
  }, 60_000);

  it('lays records out by source and ecosystem, skips non-OSV files, defaults generated_at to the newest modified', async () => {
    const b = await openFeedBundle(readFileSync(full.file), { file: full.file, expectedDigest: full.digest });
    const paths = b.records.map((r) => r.path);
    expect(paths).toContain('feeds/go/Go/GO-2022-0956.json');
    expect(paths).toContain('feeds/pypa/PyPI/PYSEC-2024-24.json');
    expect(paths).toContain('feeds/ghsa/npm/GHSA-29mw-wpgm-hmr9.json');
    expect(paths).toContain('feeds/other/Alpine_v3.3/CVE-2018-5407.json');
    expect(paths).toContain('feeds/other/unknown/RHSA-2022_0216.json');
    expect(paths).toContain('feeds/ghsa/GitHub_Actions/GHSA-j8xg-fqg3-53r7.json');
    expect([...paths].sort()).toEqual(paths);
    expect(paths.some((p) => /SELECTION|EXPECTED|schema|ecosystems/.test(p))).toBe(false);
    expect(b.records.length).toBe(Object.keys(b.manifest.files).length);
    const newest = b.records.map((r) => r.record.modified).sort((x, y) => Date.parse(y) - Date.parse(x))[0];
    expect(b.manifest.generated_at).toBe(newest);
    expect(b.manifest.generated_by).toBe('stella 0.1.0');
    expect(b.manifest.bundle_format).toBe(1);
  });

  it('records upstream sources when given and honours --generated-at', async () => {
    const go = path.join(OSV, 'go');
    const r = await snapshot(go, path.join(work, 'go.tar.zst'), [
      '--generated-at',
      '2026-01-31T00:00:00Z',
      '--source',
      `go=${FIXTURE_SOURCES[1]!.url}@commit:${(FIXTURE_SOURCES[1]!.retrieval as { commit: string }).commit}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const b = await openFeedBundle(readFileSync(path.join(work, 'go.tar.zst')));
    expect(b.manifest.generated_at).toBe('2026-01-31T00:00:00Z');
    expect(b.manifest.sources).toEqual([FIXTURE_SOURCES[1]]);
    const inProcess = await buildFeedBundle(go, { generatedAt: '2026-01-31T00:00:00Z', sources: [FIXTURE_SOURCES[1]!] });
    expect(inProcess.digest).toBe(r.stdout.trim());
  });

  it('opens the whole fixture feed quickly', async () => {
    const bytes = readFileSync(full.file);
    const t0 = performance.now();
    const b = await openFeedBundle(bytes, { file: full.file });
    const ms = performance.now() - t0;
    expect(b.records.length).toBeGreaterThan(500);
    expect(ms).toBeLessThan(1500);
  });
});

describe('YAML records', () => {
  it('round-trip PYSEC YAML with timestamps as the same RFC 3339 strings', async () => {
    const pypi = path.join(OSV, 'pypi');
    const built = await buildFeedBundle(pypi);
    const b = await openFeedBundle(built.bytes);
    expect(b.records.length).toBe(200);
    const byId = new Map(b.records.map((r) => [r.record.id, r.record]));
    expect(byId.get('PYSEC-2024-24')!.modified).toBe('2024-02-05T20:20:47.716944Z');
    expect(byId.get('PYSEC-2024-24')!.published).toBe('2024-01-29T23:15:00Z');
    // Every timestamp field equals the text in the YAML file (bare or quoted), microseconds included.
    let checked = 0;
    for (const dir of readdirSync(pypi)) {
      for (const f of readdirSync(path.join(pypi, dir))) {
        const text = readFileSync(path.join(pypi, dir, f), 'utf8');
        const rec = byId.get(f.replace(/\.yaml$/, ''))!;
        for (const key of ['modified', 'published', 'withdrawn'] as const) {
          const m = new RegExp(`^${key}: ['"]?([^'"\\n]+)['"]?$`, 'm').exec(text);
          if (!m) continue;
          expect(typeof rec[key]).toBe('string');
          expect(rec[key]).toBe(m[1]);
          checked++;
        }
        // YAML 1.1 plain scalars such as 0.10.0 or 2.0 stay strings in version lists.
        for (const a of rec.affected ?? []) for (const v of a.versions ?? []) expect(typeof v).toBe('string');
      }
    }
    expect(checked).toBeGreaterThan(400);
    // And the bundled records are valid OSV, date-time formats asserted (a Date would not be).
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(path.join(OSV, 'schema/osv-schema.json'), 'utf8')));
    const invalid = b.records.filter((r) => !validate(r.record)).map((r) => `${r.record.id}: ${ajv.errorsText(validate.errors)}`);
    expect(invalid).toEqual([]);
  });
});

describe('feed diff', () => {
  it('between a subset and the full set lists exactly the added ids', async () => {
    const subset = path.join(work, 'subset');
    cpSync(OSV, subset, { recursive: true });
    const removed: string[] = [];
    for (const f of readdirSync(path.join(subset, 'ghsa')).filter((n) => n.endsWith('.json'))) {
      removed.push(JSON.parse(readFileSync(path.join(subset, 'ghsa', f), 'utf8')).id);
    }
    rmSync(path.join(subset, 'ghsa'), { recursive: true });
    for (const f of readdirSync(path.join(subset, 'go')).filter((n) => n.startsWith('GO-2022-'))) {
      removed.push(f.replace(/\.json$/, ''));
      rmSync(path.join(subset, 'go', f));
    }
    const r = await snapshot(subset, path.join(work, 'subset.tar.zst'));
    expect(r.code, r.stderr).toBe(0);
    const d = await runStella(['feed', 'diff', path.join(work, 'subset.tar.zst'), full.digest, '--json'], { cwd: work, env });
    expect(d.code, d.stderr).toBe(1);
    const out = JSON.parse(d.stdout);
    expect(removed.length).toBeGreaterThan(40);
    expect(out.added).toEqual([...new Set(removed)].sort());
    expect(out.removed).toEqual([]);
    expect(out.modified).toEqual([]);
    const text = await runStella(['feed', 'diff', full.file, full.digest], { cwd: work, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('');
  }, 60_000);

  it('diffFeedRecords reports modified records by sha256, sorted', async () => {
    const b = await openFeedBundle(readFileSync(full.file));
    const changed = b.records.map((r) => (r.record.id === 'GO-2022-0956' ? { ...r, sha256: `sha256:${'0'.repeat(64)}` } : r));
    expect(diffFeedRecords(b.records, changed)).toEqual({ added: [], removed: [], modified: ['GO-2022-0956'] });
    expect(diffFeedRecords(b.records.slice(0, 3), [])).toEqual({ added: [], removed: b.records.slice(0, 3).map((r) => r.record.id).sort(), modified: [] });
  });
});

describe('tampered, unsafe and oversized bundles', () => {
  it('a bundle with one byte changed is refused: exit 2, one line naming the file', async () => {
    const bytes = readFileSync(full.file);
    // In-process: every 501st byte flipped must be refused, whichever layer notices.
    for (let i = 0; i < bytes.length; i += 501) {
      const t = Buffer.from(bytes);
      t[i] = t[i]! ^ 0x01;
      await expect(openFeedBundle(t, { file: 'bad.tar.zst' })).rejects.toBeInstanceOf(StellaError);
      await expect(openFeedBundle(t, { file: 'bad.tar.zst', expectedDigest: full.digest })).rejects.toMatchObject({ code: 'BUNDLE_DIGEST_MISMATCH' });
    }
    const t = Buffer.from(bytes);
    t[Math.floor(t.length / 2)] ^= 0x20;
    const bad = path.join(work, 'tampered.tar.zst');
    writeFileSync(bad, t);
    const r = await runStella(['feed', 'verify', bad], { cwd: work, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(bad);
  }, 120_000);

  it('a record changed inside an otherwise well-formed bundle is refused, naming the entry', async () => {
    const entries = unpackTar(await zstdDecompress(readFileSync(full.file), 1 << 30), { maxBytes: 1 << 30, maxEntries: 10_000 });
    const target = entries.find((e) => e.path === 'feeds/go/Go/GO-2022-0956.json')!;
    target.data = Buffer.from(Buffer.from(target.data).toString().replace('"modified":"', '"modified":"1'));
    const bad = path.join(work, 'record-changed.tar.zst');
    writeFileSync(bad, await zstdCompress(packTar(entries)));
    const r = await runStella(['feed', 'ls', bad], { cwd: work, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/record-changed\.tar\.zst: bundle entry 'feeds\/go\/Go\/GO-2022-0956\.json' has sha256 .* but the manifest says/);
  });

  const evil: Array<[string, Buffer, RegExp]> = [
    ['dotdot', rawTar(rawEntry('feed_bundle_manifest.json', '{}'), rawEntry('feeds/../../x.json', '{}')), /'feeds\/\.\.\/\.\.\/x\.json' escapes the bundle root/],
    ['absolute', rawTar(rawEntry('/tmp/x.json', '{}')), /'\/tmp\/x\.json' is an absolute path/],
    ['symlink', rawTar(rawEntry('feeds/go/Go/x.json', '', { type: '2', linkname: '/etc/shadow' })), /'feeds\/go\/Go\/x\.json' is a symbolic link/],
    ['device', rawTar(rawEntry('feeds/dev', '', { type: '3' })), /'feeds\/dev' is a character device/],
  ];
  for (const [name, tar, message] of evil) {
    it(`a tar entry that is ${name} is refused with exit 2 via the CLI`, async () => {
      const file = path.join(work, `${name}.tar.zst`);
      writeFileSync(file, await zstdCompress(tar));
      const r = await runStella(['feed', 'verify', file], { cwd: work, env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${file}: tar entry`);
      expect(r.stderr).toMatch(message);
    });
  }

  it('oversized unpacked content is refused before it is expanded', async () => {
    // 3 MB of zeros compresses to a few hundred bytes: a small zip bomb against a 1 MB cap.
    const bomb = await zstdCompress(rawTar(rawEntry('feeds/big.json', Buffer.alloc(3 * 1024 * 1024))));
    expect(bomb.length).toBeLessThan(10_000);
    await expect(openFeedBundle(bomb, { file: 'bomb.tar.zst', maxBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE', file: 'bomb.tar.zst' });
    // A tar whose entries together exceed the cap (each alone would fit) is refused by the tar reader.
    const many = await zstdCompress(rawTar(...Array.from({ length: 4 }, (_, i) => rawEntry(`feeds/f${i}.json`, Buffer.alloc(300 * 1024)))));
    await expect(openFeedBundle(many, { maxBytes: 1024 * 1024 + 4 * 1024 * 1024 })).rejects.toMatchObject({ code: 'BUNDLE_UNSAFE' });
    await expect(openFeedBundle(many, { maxBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  });
});

describe('references and bad source trees', () => {
  it('resolveFeedRef reads digests from the blob store and stores bundle files it is given', async () => {
    const other = new BlobStore(path.join(work, 'other-home'));
    const b = await resolveFeedRef(full.file, other);
    expect(b.digest).toBe(full.digest);
    expect(other.has(full.digest)).toBe(true);
    expect((await resolveFeedRef(full.digest, other)).records.length).toBe(b.records.length);
  });

  it('a missing digest says how to restore it (exit 2, one line)', async () => {
    const missing = `sha256:${'ab'.repeat(32)}`;
    const r = await runStella(['feed', 'verify', missing], { cwd: work, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain('stella feed snapshot');
    const badDigest = await runStella(['feed', 'ls', 'sha256:nothex'], { cwd: work, env });
    expect(badDigest.code).toBe(2);
    expect(badDigest.stderr).toMatch(/not a digest/);
  });

  it('a malformed JSON file in the source tree is named with its JSON path; nothing is written', async () => {
    const src = path.join(work, 'bad-src');
    mkdirSync(src, { recursive: true });
    cpSync(path.join(OSV, 'go', 'GO-2022-0956.json'), path.join(src, 'GO-2022-0956.json'));
    writeFileSync(path.join(src, 'GO-broken.json'), '{"id": "GO-x", "modified": "2024-01-01T00:00:00Z", "affected": [1,]}');
    const out = path.join(work, 'out-bad', 'b.tar.zst');
    const r = await snapshot(src, out);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(path.join(src, 'GO-broken.json'));
    expect(r.stderr).toMatch(/\$\.affected/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)) : []).toEqual([]);
  });

  it('a tree without OSV records, or a bad --generated-at, is refused', async () => {
    const r = await snapshot(path.join(OSV, 'schema'), path.join(work, 'none.tar.zst'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no OSV records/);
    const g = await snapshot(path.join(OSV, 'go'), path.join(work, 'g.tar.zst'), ['--generated-at', 'yesterday']);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/RFC 3339/);
    expect(existsSync(path.join(work, 'g.tar.zst'))).toBe(false);
  });
});

describe('bundle contents that disagree with the bundle manifest', () => {
  async function entriesOfFull() {
    return unpackTar(await zstdDecompress(readFileSync(full.file), 1 << 30), { maxBytes: 1 << 30, maxEntries: 10_000 });
  }
  async function verifyTar(name: string, entries: Array<{ path: string; data: Uint8Array }>) {
    const file = path.join(work, name);
    writeFileSync(file, await zstdCompress(packTar(entries)));
    const r = await runStella(['feed', 'verify', file], { cwd: work, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    return { file, stderr: r.stderr };
  }

  it('an entry not listed in the manifest is refused', async () => {
    const entries = await entriesOfFull();
    entries.push({ path: 'feeds/go/Go/GO-9999-0001.json', data: Buffer.from('{"id":"GO-9999-0001","modified":"2026-01-01T00:00:00Z"}') });
    const { file, stderr } = await verifyTar('unlisted.tar.zst', entries);
    expect(stderr).toContain(`${file}: bundle entry 'feeds/go/Go/GO-9999-0001.json' is not listed`);
  });

  it('a listed file missing from the bundle is refused', async () => {
    const entries = (await entriesOfFull()).filter((e) => e.path !== 'feeds/go/Go/GO-2022-0956.json');
    const { stderr } = await verifyTar('missing.tar.zst', entries);
    expect(stderr).toMatch(/lists 'feeds\/go\/Go\/GO-2022-0956\.json' but the bundle does not contain it/);
  });

  it('a manifest with a wrong bundle_format or a bad file digest is refused with its JSON path', async () => {
    const entries = await entriesOfFull();
    const m = entries.find((e) => e.path === 'feed_bundle_manifest.json')!;
    const doc = JSON.parse(Buffer.from(m.data).toString());
    m.data = Buffer.from(JSON.stringify({ ...doc, bundle_format: 2 }));
    const { file, stderr } = await verifyTar('format2.tar.zst', entries);
    expect(stderr).toContain(`${file}!feed_bundle_manifest.json: $.bundle_format: unsupported bundle_format 2`);
    m.data = Buffer.from(JSON.stringify({ ...doc, files: { ...doc.files, 'feeds/go/Go/GO-2022-0956.json': 'md5:abc' } }));
    const second = await verifyTar('baddigest.tar.zst', entries);
    expect(second.stderr).toContain('$.files["feeds/go/Go/GO-2022-0956.json"]: expected a sha256: digest');
    m.data = Buffer.from('{"bundle_format": 1,');
    const third = await verifyTar('truncated-manifest.tar.zst', entries);
    expect(third.stderr).toContain('truncated-manifest.tar.zst!feed_bundle_manifest.json');
  });

  it('a YAML record with a syntax error in the source tree is named with its line; nothing is written', async () => {
    const src = path.join(work, 'bad-yaml');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'PYSEC-0000-1.yaml'), 'id: PYSEC-0000-1\nmodified: 2024-01-01T00:00:00Z\naffected: [\n');
    const out = path.join(work, 'bad-yaml.tar.zst');
    const r = await snapshot(src, out);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/PYSEC-0000-1\.yaml: YAML syntax error at line \d+/);
    expect(existsSync(out)).toBe(false);
  });
});
