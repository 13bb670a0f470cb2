// B6 of issue 14: a FIFO, a directory or a symlink where a blob should be is refused at once (no
// blocking open, no EISDIR internal error) by `blob get`, `blob verify`, `feed verify` and `replay`, and
// the replay's error names the manifest field that pinned the blob and how to restore it.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { tempDir } from '../helpers/tmp.js';
import { runStella } from '../helpers/cli.js';
import { writeManifest } from '../docker/support.js';

const home = tempDir('stella-blob-nonregular-');
const env = { STELLA_HOME: home };
const blobs = new BlobStore(home);

type Kind = 'FIFO' | 'directory' | 'symlink';
function plant(digest: string, kind: Kind): void {
  const loc = blobs.location(digest);
  rmSync(loc, { recursive: true, force: true });
  mkdirSync(path.dirname(loc), { recursive: true });
  if (kind === 'FIFO') execFileSync('mkfifo', [loc]);
  else if (kind === 'directory') mkdirSync(loc);
  else {
    const target = path.join(home, 'elsewhere');
    writeFileSync(target, 'x');
    symlinkSync(target, loc);
  }
}
const said: Record<Kind, RegExp> = { FIFO: /is a FIFO, not a regular file/, directory: /is a directory, not a regular file/, symlink: /is a symbolic link/ };

describe('B6: non-regular blobs are refused without blocking', () => {
  for (const kind of ['FIFO', 'directory', 'symlink'] as const) {
    // Each command's own timeout is the hang bound: on the old store a FIFO blocked the open forever.
    it(`a ${kind} in place of a blob: blob get / blob verify / feed verify refuse it, exit 2, one line`, { timeout: 60_000 }, async () => {
      const digest = blobs.put(Buffer.from(`blob for ${kind}`));
      plant(digest, kind);
      for (const args of [['blob', 'get', digest], ['blob', 'verify', digest], ['feed', 'verify', digest]]) {
        const r = await runStella(args, { env, timeoutMs: 15_000 });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines, args.join(' ')).toHaveLength(1);
        expect(lines[0]).toMatch(said[kind]);
        expect(lines[0]).not.toMatch(/internal error|EISDIR/);
      }
    });
  }

  it('replay with a FIFO as its pinned feed bundle: error record naming $.feeds.vuln_feed_bundle_digest and the fix', { timeout: 60_000 }, async () => {
    const rec = path.join(home, 'scans/fifo');
    const { file, manifest } = writeManifest(home, rec, { imageId: 'sha256:' + '0'.repeat(64) });
    plant(manifest.feeds.vuln_feed_bundle_digest, 'FIFO');
    const out = path.join(home, 'out-fifo');
    const r = await runStella(['replay', '--from', file, '--out-dir', out, '--executor', 'local', '--json'], { env, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe('error');
    expect(record.error).toContain(`$.feeds.vuln_feed_bundle_digest: vulnerability feed bundle ${manifest.feeds.vuln_feed_bundle_digest} (pinned by $.feeds.vuln_feed_bundle_digest) is damaged in the blob store`);
    expect(record.error).toMatch(/is a FIFO, not a regular file.*stella feed snapshot/);
    expect(readFileSync(path.join(out, record.replay_id, 'replay.json'), 'utf8')).toContain('"status": "error"');
  });

  it('replay with the policy bundle missing names $.policy.policy_bundle_digest', { timeout: 60_000 }, async () => {
    const rec = path.join(home, 'scans/missing');
    const { file, manifest } = writeManifest(home, rec, { imageId: 'sha256:' + '0'.repeat(64) });
    rmSync(blobs.location(manifest.policy.policy_bundle_digest));
    const r = await runStella(['replay', '--from', file, '--out-dir', path.join(home, 'out-missing'), '--executor', 'local', '--json'], { env, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatch(/^\$\.policy\.policy_bundle_digest: policy bundle sha256:[0-9a-f]{64} \(pinned by \$\.policy\.policy_bundle_digest\) is not in the blob store .*; restore it with `stella blob put FILE` or `stella policy bundle`/);
  });
});
