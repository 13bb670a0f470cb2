// Bundle memory (issue 14): hostile feed bundles — a 64 KB one declaring 1.9 GiB, one with a 1.5 GiB
// entry, one of 128 junk entries of 15 MiB, a frame header asking for a 1.9 GiB window — are refused
// with one line and exit 2, and the CLI's peak RSS stays under 300 MB (streaming zstd → tar → records).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { REPO, STELLA_BIN } from '../helpers/cli.js';
import { rawEntry, rawHeader } from '../feed/craft.js';

const dir = tempDir('stella-bundle-memory-');
const MB = 1024 * 1024;
const RSS_CEILING_KB = 300 * 1024;

/** Stream parts (buffers, or counts of zero bytes) through the real zstd CLI into a file. */
async function zstdOf(name: string, parts: Array<Buffer | number>, streamSize: number | null): Promise<string> {
  const file = path.join(dir, name);
  const z = spawn('zstd', ['-q', '-3', '-c', ...(streamSize === null ? [] : [`--stream-size=${streamSize}`]), '-o', file], { stdio: ['pipe', 'ignore', 'inherit'] });
  const zeros = Buffer.alloc(4 * MB);
  const write = (b: Buffer) => new Promise<void>((resolve) => (z.stdin.write(b) ? resolve() : z.stdin.once('drain', () => resolve())));
  for (const p of parts) {
    if (Buffer.isBuffer(p)) await write(p);
    else for (let left = p; left > 0; left -= zeros.length) await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
  }
  z.stdin.end();
  await new Promise((resolve) => z.on('close', resolve));
  return file;
}

const size = (parts: Array<Buffer | number>) => parts.reduce<number>((n, p) => n + (Buffer.isBuffer(p) ? p.length : p), 0);

function feedVerify(file: string): { code: number | null; lines: string[]; rssKb: number } {
  const r = spawnSync(process.execPath, ['--import', path.join(REPO, 'test/hostile/maxrss-preload.mjs'), STELLA_BIN, 'feed', 'verify', file], { encoding: 'utf8', timeout: 60_000 });
  const rss = /maxrss_kb=(\d+)/.exec(r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('maxrss_kb='));
  return { code: r.status, lines, rssKb: rss ? Number(rss[1]) : Infinity };
}

const manifest = rawEntry('feed_bundle_manifest.json', JSON.stringify({ bundle_format: 1, generated_at: '2026-01-01T00:00:00Z', generated_by: 'x', sources: [], files: {} }));

describe('hostile bundles: refused with bounded memory', () => {
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'a 64 KB bundle declaring 1.9 GiB (one 1.9 GiB entry)',
      () => {
        const n = 1900 * MB;
        const parts = [rawHeader('feeds/go/Go/x.json', { size: n }), n, Buffer.alloc(1024)];
        return zstdOf('declared.tar.zst', parts, size(parts));
      },
      /tar entry 'feeds\/go\/Go\/x\.json' is \d+ bytes, over the 16777216-byte limit for one file/,
    ],
    [
      'a bundle with a 1.5 GiB entry after its manifest',
      () => {
        const n = 1536 * MB;
        return zstdOf('entry.tar.zst', [manifest, rawHeader('feeds/go/Go/big.json', { size: n }), n, Buffer.alloc(1024)], null);
      },
      /tar entry 'feeds\/go\/Go\/big\.json' is 1610612736 bytes, over the 16777216-byte limit/,
    ],
    [
      'a bundle of 128 junk entries of 15 MiB (1.9 GiB unpacked)',
      () => {
        const parts: Array<Buffer | number> = [manifest];
        for (let i = 0; i < 128; i++) parts.push(rawHeader(`feeds/go/Go/junk-${i}.json`, { size: 15 * MB }), 15 * MB);
        parts.push(Buffer.alloc(1024));
        return zstdOf('junk.tar.zst', parts, null);
      },
      /bundle entry 'feeds\/go\/Go\/junk-0\.json' is not listed/,
    ],
    [
      'a frame header asking for a 1.9 GiB window (single segment)',
      async () => {
        const file = path.join(dir, 'window.tar.zst');
        const h = Buffer.alloc(4 + 1 + 8 + 3);
        h.writeUInt32LE(0xfd2fb528, 0);
        h[4] = 0b1110_0000; // 8-byte content size, single segment, no checksum, no dictionary
        h.writeBigUInt64LE(BigInt(1900 * MB), 5);
        h.writeUIntLE((0 << 3) | (0 << 1) | 1, 13, 3); // last raw block of 0 bytes
        writeFileSync(file, h);
        return file;
      },
      /needs a 1992294400-byte window, over the 134217728-byte decoding limit/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(name, { timeout: 120_000 }, async () => {
      const file = await make();
      const r = feedVerify(file);
      expect(r.code, r.lines.join('\n')).toBe(2);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(message);
      console.log(`bundle-memory: ${name}: peak RSS ${(r.rssKb / 1024).toFixed(1)} MB`);
      expect(r.rssKb).toBeLessThan(RSS_CEILING_KB);
    });
  }
});
