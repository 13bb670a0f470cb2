// Messages (issue 14): a tampered bundle says "digest mismatch" whichever layer notices (zstd, tar,
// entry sha256); a replay whose pinned feed blob was altered names the manifest field that pinned it
// and how to restore it.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildFeedBundle } from '../../src/app/feed.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { tempDir } from '../helpers/tmp.js';
import { runStella, THIRD_PARTY } from '../helpers/cli.js';
import { writeManifest } from '../docker/support.js';

const home = tempDir('stella-messages-');
const env = { STELLA_HOME: home };

describe('tampered bundles and blobs', () => {
  it('feed verify of a bundle with a byte changed (10 positions): one line with "digest mismatch"', { timeout: 120_000 }, async () => {
    const b = await buildFeedBundle(path.join(THIRD_PARTY, 'osv/go'), { generatedAt: '2026-01-01T00:00:00Z' });
    for (let k = 1; k <= 10; k++) {
      const t = Buffer.from(b.bytes);
      const at = Math.floor((t.length * k) / 11);
      t[at] = t[at]! ^ 0x10;
      const file = path.join(home, `tampered-${k}.tar.zst`);
      writeFileSync(file, t);
      const r = await runStella(['feed', 'verify', file], { env });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0], `byte ${at}`).toContain('digest mismatch');
      expect(lines[0]).not.toContain('Failed to compress');
    }
  });

  it('replay with its pinned feed blob altered: names $.feeds.vuln_feed_bundle_digest, says digest mismatch and how to restore', { timeout: 60_000 }, async () => {
    const { file, manifest } = writeManifest(home, path.join(home, 'scans/t'), { imageId: 'sha256:' + '4'.repeat(64) });
    const loc = new BlobStore(home).location(manifest.feeds.vuln_feed_bundle_digest);
    writeFileSync(loc, Buffer.concat([readFileSync(loc), Buffer.from('x')]));
    const r = await runStella(['replay', '--from', file, '--out-dir', path.join(home, 'out'), '--executor', 'local', '--json'], { env });
    expect(r.code, r.stderr).toBe(2);
    const error = JSON.parse(r.stdout).error as string;
    expect(error).toMatch(/^\$\.feeds\.vuln_feed_bundle_digest: vulnerability feed bundle sha256:[0-9a-f]{64} \(pinned by \$\.feeds\.vuln_feed_bundle_digest\) is damaged in the blob store: /);
    expect(error).toContain('digest mismatch');
    expect(error).toMatch(/restore it with `stella blob put FILE` or `stella feed snapshot`/);
  });

  it('replay --out-dir naming a file: one line naming it, exit 2, no record and no temp dir left', { timeout: 60_000 }, async () => {
    const { file } = writeManifest(home, path.join(home, 'scans/o'), { imageId: 'sha256:' + '4'.repeat(64) });
    const out = path.join(home, 'out-file');
    writeFileSync(out, 'not a directory\n');
    const r = await runStella(['replay', '--from', file, '--out-dir', out, '--executor', 'local'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stella replay: ${out}: cannot create the output directory: it or a parent of it is a file, not a directory\n`);
    expect(readFileSync(out, 'utf8')).toBe('not a directory\n');
    expect(readdirSync(home).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
