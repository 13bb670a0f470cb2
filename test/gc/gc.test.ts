// `stella gc` through the built CLI over a real STELLA_HOME: scans and a local replay written by stella
// itself, an index, image records, and blobs nothing references.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import type { ScanManifest } from '../../src/core/formats.js';
import { CLOCK, LOCK, allOsvFeed, writeFeed } from '../scanner/helpers.js';

const work = tempDir('stella-gc-');
const home = path.join(work, 'home');
const env = { STELLA_HOME: home, TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
const blobs = new BlobStore(home);
const NOW = '2026-03-01T00:00:00Z';
const OLD = new Date('2026-01-01T00:00:00Z'); // 59 days before NOW
const YOUNG = new Date('2026-02-20T00:00:00Z'); // 9 days before NOW

const d: Record<string, string> = {};

async function stella(args: string[]) {
  const r = await runStella(args, { env, cwd: work });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ScanManifest;
const imageRecord = (imageId: string, archive: string) => {
  mkdirSync(path.join(home, 'images'), { recursive: true });
  writeFileSync(path.join(home, 'images', `${imageId.slice(7)}.json`), JSON.stringify({ image_id: imageId, archive_digest: archive, layer_digest: archive, tag: 't', archive_bytes: 1 }));
};
const tarLike = (name: string) => {
  const b = Buffer.alloc(1024);
  b.write(name, 0);
  b.write('ustar', 257, 'latin1');
  return b;
};

beforeAll(async () => {
  const feed = await allOsvFeed();
  const feedFile = writeFeed(work, feed.bytes);
  const policy = path.join(work, 'policy.json');
  writeFileSync(policy, JSON.stringify({ policy_version: 1, policy_set: 'prod-default' }));
  const scan = async (lock: string, out: string) =>
    JSON.parse(await stella(['scan', LOCK(lock), '--feed', feedFile, '--policy', policy, '--out-dir', out, '--clock', CLOCK, '--json'])) as { dir: string };
  // A: a record under STELLA_HOME. B: outside it, replayed (local executor) and indexed. C: outside
  // it, neither indexed nor under STELLA_HOME (only `--records` can tell gc about it).
  const a = await scan('cargo/ripgrep-13.0.0/Cargo.lock', path.join(home, 'records'));
  const b = await scan('npm/nodegoat/package-lock.json', path.join(work, 'outside/scans'));
  const c = await scan('python/poetry-1.1.0/poetry.lock', path.join(work, 'elsewhere'));
  await stella(['replay', '--from', path.join(b.dir, 'manifest.json'), '--out-dir', path.join(work, 'outside/replays'), '--executor', 'local', '--json']);
  await stella(['index', path.join(work, 'outside'), '--json']);
  const [ma, mb, mc] = [manifest(a.dir), manifest(b.dir), manifest(c.dir)];
  Object.assign(d, { inputA: ma.input.digest, inputB: mb.input.digest, inputC: mc.input.digest, feed: ma.feeds.vuln_feed_bundle_digest, policy: ma.policy.policy_bundle_digest });
  expect(new Set([d.inputA, d.inputB, d.inputC]).size).toBe(3);
  // The scanner image the records ran keeps its archive; an image nobody ran loses its archive.
  d.usedArchive = blobs.put(tarLike('used image'));
  imageRecord(ma.scanner.scanner_image_digest, d.usedArchive);
  d.orphanArchive = blobs.put(tarLike('orphan image'));
  d.orphanImage = `sha256:${'ab'.repeat(32)}`;
  imageRecord(d.orphanImage, d.orphanArchive);
  d.evidence = blobs.put(Buffer.from('{"trace":"matcher evidence nobody references"}\n'));
  d.young = blobs.put(Buffer.from('stored nine days ago, unreferenced'));
  for (const digest of blobs.list()) utimesSync(blobs.location(digest), OLD, OLD);
  utimesSync(blobs.location(d.young), YOUNG, YOUNG);
}, 300_000);

const plan = async (extra: string[]) => JSON.parse(await stella(['gc', '--older-than', '30d', '--now', NOW, '--json', ...extra]));
const sizeOf = (digest: string) => statSync(blobs.location(digest)).size;

describe('stella gc', () => {
  it('dry run lists unreferenced old blobs with the bytes they free, and removes nothing', async () => {
    const before = listFiles(home);
    const p = await plan(['--dry-run']);
    const expected = [d.evidence, d.orphanArchive, d.inputC].sort();
    expect(p.remove.map((c: { digest: string }) => c.digest)).toEqual(expected);
    expect(p.bytes).toBe(expected.reduce((a, x) => a + sizeOf(x), 0));
    expect(p.remove.find((c: { digest: string }) => c.digest === d.orphanArchive)).toMatchObject({ kind: 'image archive', age_days: 59 });
    expect(p.remove.find((c: { digest: string }) => c.digest === d.evidence)).toMatchObject({ kind: 'json', age_days: 59 });
    expect(p).toMatchObject({ dry_run: true, older_than_days: 30, kept_recent: 1, indexed_replays: 1 });
    expect(p.blobs).toBe(blobs.list().length);
    expect(listFiles(home)).toEqual(before);
    // The text form says the same.
    const text = await stella(['gc', '--older-than', '30d', '--now', NOW, '--dry-run']);
    expect(text.split('\n')[0]).toMatch(new RegExp(`^dry run: would remove 3 blobs, freeing [0-9.]+ (B|KiB|MiB) \\(${p.bytes} bytes\\)$`));
    for (const x of expected) expect(text).toContain(x);
    expect(listFiles(home)).toEqual(before);
  }, 60_000);

  it('--records names records kept outside STELLA_HOME: their blobs are referenced', async () => {
    const p = await plan(['--dry-run', '--records', path.join(work, 'elsewhere')]);
    expect(p.remove.map((c: { digest: string }) => c.digest)).toEqual([d.evidence, d.orphanArchive].sort());
  }, 60_000);

  it('a real run removes exactly the listed blobs; every referenced blob survives and verifies', async () => {
    const listed = await plan(['--dry-run', '--records', path.join(work, 'elsewhere')]);
    const before = new Set(blobs.list());
    const done = await plan(['--records', path.join(work, 'elsewhere')]);
    expect(done.dry_run).toBe(false);
    expect(done.remove).toEqual(listed.remove);
    expect(done.bytes).toBe(listed.bytes);
    const after = new Set<string>(blobs.list());
    expect([...before].filter((x) => !after.has(x)).sort()).toEqual(listed.remove.map((c: { digest: string }) => c.digest));
    // Referenced by: A's record under STELLA_HOME (inputA, feed, policy, its image's archive), B only
    // through the index, C through --records; and the young blob is inside the window.
    for (const k of ['inputA', 'inputB', 'inputC', 'feed', 'policy', 'usedArchive', 'young']) expect(after.has(d[k]), k).toBe(true);
    // The orphan image's record went with its archive; the used one stays.
    const images = listFiles(path.join(home, 'images')).filter((f) => !f.includes('/'));
    expect(images).toEqual([`${manifest(path.join(home, 'records', listFiles(path.join(home, 'records'))[0].split('/')[0])).scanner.scanner_image_digest.slice(7)}.json`]);
    expect(await stella(['blob', 'verify'])).toBe(`${after.size}/${after.size} blobs intact\n`);
    // Nothing left to do.
    expect((await plan(['--records', path.join(work, 'elsewhere')])).remove).toEqual([]);
  }, 60_000);

  it('a missing index is refused, never read as an empty one: one line naming it, exit 2, nothing removed', async () => {
    const before = blobs.list();
    const typo = path.join(work, 'typo.db');
    for (const r of [
      await runStella(['gc', '--older-than', '1d', '--now', NOW, '--db', typo], { env, cwd: work }),
      await runStella(['gc', '--older-than', '1d', '--now', NOW], { env: { ...env, STELLA_DB: typo }, cwd: work }),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`stella gc: ${typo}: no index here: gc keeps every blob an indexed record references, so it needs the index; run \`stella index DIR\` first, or point --db (or STELLA_DB) at it\n`);
    }
    expect(blobs.list()).toEqual(before);
  });

  it('bad --older-than: one line, exit 2', async () => {
    const r = await runStella(['gc', '--older-than', '30'], { env, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("--older-than must be a number of days like 30d, got '30'");
  });
});
