// Feed bundles: snapshot and open the whole fixture OSV tree, beside `tar | zstd` and `zstd -d | tar -x`
// on the same files (what a user would do by hand, without canonical JSON, digests or safety checks).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool, median, report, shellMs, timeMs } from './lib.js';
import { buildFeedBundle, openFeedBundle } from '../src/app/feed.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OSV = path.join(REPO, 'fixtures/third_party/osv');
const RUNS = 5;

export default async function (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-feed-bench-'));
  try {
    let bytes: Buffer = Buffer.alloc(0);
    const builds: number[] = [];
    for (let i = 0; i < RUNS; i++) builds.push(await timeMs(async () => (bytes = (await buildFeedBundle(OSV)).bytes)));
    const build = median(builds);
    const file = path.join(dir, 'osv.tar.zst');
    writeFileSync(file, bytes);
    const opens: number[] = [];
    let records = 0;
    for (let i = 0; i < RUNS; i++) opens.push(await timeMs(async () => (records = (await openFeedBundle(bytes)).records.length)));
    const tools = hasTool('tar') && hasTool('zstd');
    const plainPack = tools ? median(Array.from({ length: RUNS }, () => shellMs(`tar -cf - -C '${OSV}' . | zstd -q -9 -c > '${dir}/plain.tar.zst'`))) : NaN;
    const plainOpen = tools
      ? median(Array.from({ length: RUNS }, () => shellMs(`rm -rf '${dir}/x' && mkdir '${dir}/x' && zstd -q -dc '${dir}/plain.tar.zst' | tar -xf - -C '${dir}/x'`)))
      : NaN;
    report({ bench: 'feed', what: `snapshot fixture OSV tree (${records} records)`, value: build, unit: 'ms', better: 'lower', baseline: tools ? { tool: 'tar | zstd -9', value: plainPack } : undefined });
    report({ bench: 'feed', what: `open + verify bundle (${bytes.length} B)`, value: median(opens), unit: 'ms', better: 'lower', baseline: tools ? { tool: 'zstd -d | tar -x', value: plainOpen } : undefined, target: '< 2000 ms' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
