// Fuzz at the CLI level (issue 14): seeded mutated manifests and feed bundles through the built CLI;
// every run must exit 0, 1 or 2 (never a crash or a signal) within 5 s, with at most one stderr line.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { packTar } from '../../src/adapters/tar.js';
import { zstdCompress } from '../../src/adapters/zstd.js';

const SEED = 1414;
const dir = tempDir('stella-fuzz-cli-');
const env = { STELLA_HOME: path.join(dir, 'home') };

function mutate(seed: Buffer): fc.Arbitrary<Buffer> {
  return fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 4 }).map((edits) => {
    let b = Buffer.from(seed);
    for (const [at, byte, cut] of edits) {
      const i = at % Math.max(1, b.length);
      if (cut) b = b.subarray(0, i);
      else if (b.length) b[i] = byte;
    }
    return b;
  });
}

async function cliFuzz(name: string, arb: fc.Arbitrary<Buffer>, runs: number, args: (file: string) => string[]): Promise<void> {
  const seen = { 0: 0, 1: 0, 2: 0 } as Record<number, number>;
  const samples = fc.sample(arb, { seed: SEED, numRuns: runs });
  let k = 0;
  for (const bytes of samples) {
    const file = path.join(dir, `${name}-${k++}`);
    writeFileSync(file, bytes);
    const r = await runStella(args(file), { env, timeoutMs: 5000 });
    expect([0, 1, 2], `${name} #${k}: exit ${r.code}: ${r.stderr}`).toContain(r.code);
    expect(r.stderr.trim().split('\n').length, r.stderr).toBeLessThanOrEqual(1);
    expect(r.stderr).not.toContain('internal error');
    seen[r.code!]!++;
  }
  console.log(`fuzz cli ${name}: ${runs} tries, exit 0: ${seen[0]}, exit 1: ${seen[1]}, exit 2: ${seen[2]}, 0 crashes, 0 hangs`);
}

describe('fuzz: the CLI exits 0, 1 or 2', () => {
  it('manifest hash over 24 mutated manifests', { timeout: 120_000 }, async () => {
    await cliFuzz('manifest', mutate(readFileSync(path.join(REPO, 'fixtures/manifests/example.manifest.json'))), 24, (f) => ['manifest', 'hash', f]);
  });
  it('feed verify over 16 mutated bundles', { timeout: 120_000 }, async () => {
    const bundle = await zstdCompress(
      packTar([
        { path: 'feed_bundle_manifest.json', data: Buffer.from('{"bundle_format":1}') },
        { path: 'feeds/go/Go/GO-1.json', data: Buffer.from('{"id":"GO-1","modified":"2024-01-01T00:00:00Z"}') },
      ]),
    );
    await cliFuzz('feed', mutate(bundle), 16, (f) => ['feed', 'verify', f]);
  });
});
