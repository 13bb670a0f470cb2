// A replay classifies what it holds in memory and writes its record once: counted through the fs port
// the record writer takes, every file of the record is written exactly one time (replay.json too).
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runStella, THIRD_PARTY, REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { replay } from '../../src/app/replay.js';
import { scannerEntryPath } from '../../src/app/image.js';
import { LocalExecutor } from '../../src/adapters/local-executor.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import type { RecordFs } from '../../src/core/ports.js';

const CLOCK = '2025-12-12T10:15:30Z';
const INPUT = path.join(THIRD_PARTY, 'lockfiles/npm/socket.io/package-lock.json');

/** node:fs writes, counted per path relative to the record's staging directory. */
function countingFs(): { fs: RecordFs; writes: Map<string, number> } {
  const writes = new Map<string, number>();
  return {
    writes,
    fs: {
      mkdir: (dir) => mkdirSync(dir, { recursive: true }),
      writeFile: (file, data) => {
        const key = path.basename(path.dirname(file)) === 'artifacts' ? `artifacts/${path.basename(file)}` : path.basename(file);
        writes.set(key, (writes.get(key) ?? 0) + 1);
        writeFileSync(file, data);
      },
    },
  };
}

describe('one replay, one write per record file', () => {
  const work = tempDir('stella-record-writes-');
  const env = { STELLA_HOME: path.join(work, 'home') };
  let scanDir = '';

  beforeAll(async () => {
    const feedSrc = path.join(work, 'osv');
    mkdirSync(feedSrc);
    cpSync(path.join(THIRD_PARTY, 'osv/ghsa'), path.join(feedSrc, 'ghsa'), { recursive: true });
    expect((await runStella(['feed', 'snapshot', feedSrc, '--out', path.join(work, 'feed.tar.zst'), '--generated-at', CLOCK], { env, cwd: work })).code).toBe(0);
    expect((await runStella(['policy', 'bundle', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out', path.join(work, 'policy.json')], { env, cwd: work })).code).toBe(0);
    const r = await runStella(['scan', INPUT, '--feed', path.join(work, 'feed.tar.zst'), '--policy', path.join(work, 'policy.json'), '--out-dir', path.join(work, 'scans'), '--clock', CLOCK, '--json'], { env, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    scanDir = (JSON.parse(r.stdout) as { dir: string }).dir;
  }, 240_000);

  it('a passing replay writes manifest, artifacts, outputs and replay.json once each', async () => {
    const { fs, writes } = countingFs();
    const r = await replay({
      manifestPath: path.join(scanDir, 'manifest.json'),
      outDir: path.join(work, 'replays'),
      executor: new LocalExecutor({ entry: scannerEntryPath(), env }),
      blobs: BlobStore.fromEnv(env, work),
      now: () => new Date('2026-01-01T00:00:00Z'),
      env,
      fs,
    });
    expect(r.record.status).toBe('passed');
    expect(Object.fromEntries([...writes].sort())).toEqual({
      'artifacts/findings.json': 1,
      'artifacts/sbom.cdx.json': 1,
      'artifacts/verdict.json': 1,
      'artifacts/vex.openvex.json': 1,
      'manifest.json': 1,
      'outputs.json': 1,
      'replay.json': 1,
    });
    // What was written is what the replay returned.
    expect(JSON.parse(readFileSync(path.join(r.dir!, 'replay.json'), 'utf8'))).toEqual(r.record);
  }, 120_000);

  it('a replay that differs is classified in memory and still writes replay.json once', async () => {
    const { fs, writes } = countingFs();
    // A different policy: the replay's verdict differs, so the full comparison runs.
    expect((await runStella(['policy', 'bundle', path.join(REPO, 'fixtures/policies/lenient.yaml'), '--out', path.join(work, 'lenient.json')], { env, cwd: work })).code).toBe(0);
    const put = await runStella(['blob', 'put', path.join(work, 'lenient.json')], { env, cwd: work });
    expect(put.code, put.stderr).toBe(0);
    const lenient = put.stdout.split(/\s+/)[0];
    expect(lenient).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await replay({
      manifestPath: path.join(scanDir, 'manifest.json'),
      outDir: path.join(work, 'replays'),
      executor: new LocalExecutor({ entry: scannerEntryPath(), env }),
      blobs: BlobStore.fromEnv(env, work),
      whatIf: { policy: lenient as `sha256:${string}` },
      now: () => new Date('2026-01-02T00:00:00Z'),
      env,
      fs,
    });
    expect(r.record.status).toBe('failed');
    expect(r.record.mismatch_reason).toBe('policy_drift');
    expect(writes.get('replay.json')).toBe(1);
    expect([...writes.values()].every((n) => n === 1)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(r.dir!, 'replay.json'), 'utf8'))).toEqual(r.record);
  }, 120_000);
});
