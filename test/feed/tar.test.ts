import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packDirectory, packTar, unpackTar } from '../../src/adapters/tar.js';
import { zstdCompress, zstdDecompress, zstdFrameContentSize } from '../../src/adapters/zstd.js';
import { StellaError } from '../../src/core/errors.js';
import { THIRD_PARTY } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { rawEntry, rawTar } from './craft.js';

const CAPS = { maxBytes: 10 * 1024 * 1024, maxEntries: 1000, file: 'evil.tar' };

function refused(bytes: Buffer, opts = CAPS): StellaError {
  try {
    unpackTar(bytes, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(StellaError);
    return e as StellaError;
  }
  throw new Error('unpackTar accepted a tar it must refuse');
}

describe('packTar', () => {
  const longName = `feeds/other/${'x'.repeat(150)}/RHSA-2022_0216.json`;
  const entries = [
    { path: 'b.json', data: Buffer.from('{"b":1}') },
    { path: longName, data: Buffer.from('long') },
    { path: 'a/ü-é.json', data: Buffer.from('non-ascii') },
    { path: 'a.json', data: Buffer.alloc(0) },
  ];

  it('is deterministic and independent of input order', () => {
    const one = packTar(entries);
    const two = packTar([...entries].reverse());
    expect(one.equals(two)).toBe(true);
  });

  it('is read by GNU tar with sorted names, fixed metadata and long/non-ASCII names intact', () => {
    const dir = tempDir();
    const file = path.join(dir, 't.tar');
    writeFileSync(file, packTar(entries));
    const listing = execFileSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual(['a.json', 'a/ü-é.json', 'b.json', longName]);
    for (const l of listing) expect(l).toMatch(/^-rw-r--r-- 0\/0 .* 1970-01-01 00:00 /);
    const out = path.join(dir, 'x');
    mkdirSync(out);
    execFileSync('tar', ['-xf', file, '-C', out]);
    expect(readFileSync(path.join(out, longName), 'utf8')).toBe('long');
  });

  it('round-trips through unpackTar, and unpackTar reads tars written by GNU tar', () => {
    expect(unpackTar(packTar(entries), CAPS).map((e) => [e.path, Buffer.from(e.data).toString()])).toEqual([
      ['a.json', ''],
      ['a/ü-é.json', 'non-ascii'],
      ['b.json', '{"b":1}'],
      [longName, 'long'],
    ]);
    const dir = tempDir();
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, 'go'), { recursive: true });
    cpSync(path.join(THIRD_PARTY, 'osv/go/GO-2022-0956.json'), path.join(src, 'go', 'GO-2022-0956.json'));
    writeFileSync(path.join(src, `${'n'.repeat(120)}.json`), '{}');
    const gnu = execFileSync('tar', ['-cf', '-', '-C', src, '.']);
    const got = unpackTar(gnu, CAPS).map((e) => e.path).sort();
    expect(got).toEqual(['go/GO-2022-0956.json', `${'n'.repeat(120)}.json`]);
  });
});

describe('unpackTar refuses unsafe entries (BUNDLE_UNSAFE, naming bundle and entry)', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a .. segment', rawTar(rawEntry('feeds/../../etc/passwd', 'x')), /feeds\/\.\.\/\.\.\/etc\/passwd.*'\.\.' segment/],
    ['a .. segment via the ustar prefix', rawTar(rawEntry('passwd', 'x', { prefix: '..' })), /\.\.\/passwd/],
    ['an absolute path', rawTar(rawEntry('/etc/cron.d/evil', 'x')), /\/etc\/cron\.d\/evil.*absolute/],
    ['a symlink', rawTar(rawEntry('feeds/link', '', { type: '2', linkname: '/etc/passwd' })), /feeds\/link.*symbolic link/],
    ['a hard link', rawTar(rawEntry('feeds/hard', '', { type: '1', linkname: 'feed_bundle_manifest.json' })), /feeds\/hard.*hard link/],
    ['a character device', rawTar(rawEntry('dev/null', '', { type: '3' })), /dev\/null.*character device/],
    ['a block device', rawTar(rawEntry('dev/sda', '', { type: '4' })), /dev\/sda.*block device/],
    ['a fifo', rawTar(rawEntry('pipe', '', { type: '6' })), /pipe.*fifo/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`refuses ${what}`, () => {
      const e = refused(bytes);
      expect(e.code).toBe('BUNDLE_UNSAFE');
      expect(e.file).toBe('evil.tar');
      expect(e.message).toMatch(message);
    });
  }

  it('refuses a symlink even after a harmless first entry, handing out nothing', () => {
    const e = refused(rawTar(rawEntry('ok.json', '{}'), rawEntry('evil', '', { type: '2', linkname: '../../x' })));
    expect(e.oneLine()).toMatch(/^evil\.tar: tar entry 'evil' is a symbolic link/);
  });

  it('refuses a bad header checksum, non-zero padding and a truncated entry', () => {
    const good = rawTar(rawEntry('a.json', '{}'));
    const badSum = Buffer.from(good);
    badSum[0] = 0x62;
    expect(refused(badSum).message).toMatch(/checksum/);
    const badPad = Buffer.from(good);
    badPad[512 + 10] = 1;
    expect(refused(badPad).message).toMatch(/non-zero padding/);
    expect(refused(good.subarray(0, 512 + 1)).message).toMatch(/truncated/);
  });

  it('caps total unpacked bytes and the entry count (INPUT_TOO_LARGE)', () => {
    const big = rawTar(rawEntry('a', Buffer.alloc(600)), rawEntry('b', Buffer.alloc(600)));
    const e = refused(big, { ...CAPS, maxBytes: 1000 });
    expect(e.code).toBe('INPUT_TOO_LARGE');
    expect(e.message).toMatch(/more than 1000 bytes.*'b'/);
    const many = rawTar(...Array.from({ length: 5 }, (_, i) => rawEntry(`f${i}`, '')));
    expect(refused(many, { ...CAPS, maxEntries: 4 }).code).toBe('INPUT_TOO_LARGE');
  });
});

describe('packDirectory', () => {
  it('digests content only: same files, other mtimes and creation order → same bytes; links left out', () => {
    const dir = tempDir();
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    mkdirSync(path.join(a, 'sub'), { recursive: true });
    writeFileSync(path.join(a, 'z.txt'), 'z');
    writeFileSync(path.join(a, 'sub', 'y.txt'), 'y');
    mkdirSync(path.join(b, 'sub'), { recursive: true });
    writeFileSync(path.join(b, 'sub', 'y.txt'), 'y');
    writeFileSync(path.join(b, 'z.txt'), 'z');
    utimesSync(path.join(b, 'z.txt'), 1_000_000, 1_000_000);
    symlinkSync('/etc/passwd', path.join(b, 'link'));
    expect(packDirectory(a).equals(packDirectory(b))).toBe(true);
    expect(unpackTar(packDirectory(a), CAPS).map((e) => e.path)).toEqual(['sub/y.txt', 'z.txt']);
  });
});

describe('zstd', () => {
  it('compresses deterministically and round-trips', async () => {
    const data = readFileSync(path.join(THIRD_PARTY, 'sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json'));
    const one = await zstdCompress(data);
    const two = await zstdCompress(data);
    expect(one.equals(two)).toBe(true);
    expect(zstdFrameContentSize(one)).toBe(data.length);
    expect((await zstdDecompress(one, data.length)).equals(data)).toBe(true);
    await expect(zstdDecompress(one, data.length - 1)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  });

  it('decompresses a 50 MB stream from the zstd CLI that declares no content size', async () => {
    // `zstd -` reading a pipe cannot know the size, so the frame header omits it.
    const dir = tempDir();
    const raw = path.join(dir, 'raw');
    const chunk = readFileSync(path.join(THIRD_PARTY, 'sboms/cyclonedx/keycloak-10.0.2.maven.cdx-1.2.json'));
    const parts: Buffer[] = [];
    let n = 0;
    for (let i = 0; n < 50 * 1024 * 1024; i++) {
      const b = Buffer.concat([Buffer.from(`${i}\n`), chunk]);
      parts.push(b);
      n += b.length;
    }
    const data = Buffer.concat(parts);
    writeFileSync(raw, data);
    const z = execFileSync('sh', ['-c', `cat '${raw}' | zstd -q -3 -c -`], { maxBuffer: 1 << 30 });
    expect(zstdFrameContentSize(z)).toBeNull();
    const out = await zstdDecompress(z, 64 * 1024 * 1024);
    expect(out.equals(data)).toBe(true);
    await expect(zstdDecompress(z, 10 * 1024 * 1024)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  }, 60_000);

  it('refuses data that is not zstd', async () => {
    await expect(zstdDecompress(Buffer.from('plain tar?'), 1000, 'x.tar.zst')).rejects.toMatchObject({ code: 'INPUT_UNSUPPORTED', file: 'x.tar.zst' });
  });
});
