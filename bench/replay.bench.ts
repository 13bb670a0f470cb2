// Replay execution cost against the real engine.
// 1. Per-replay container overhead (create → start → wait → logs → remove), median of 20, beside
//    running the same scanner process directly (node + libfaketime, same env) — the floor.
// 2. Batch throughput: fresh scans of the 17 golden canary inputs replayed through `replayBatch` at
//    concurrency 1 and 2, in replays per minute, beside the same replays run serially with the local
//    executor (a child process per replay, no container).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report, timeMs } from './lib.js';
import { BlobStore } from '../src/adapters/blob-store.js';
import { faketimeEnv } from '../src/adapters/docker/clock-env.js';
import { engineFromEnv } from '../src/adapters/docker/engine.js';
import { DockerExecutor } from '../src/adapters/docker/executor.js';
import { defaultSources, findFaketimeLib } from '../src/adapters/docker/image-archive.js';
import { buildScannerImage, ensureImage, scannerEntryPath } from '../src/app/image.js';
import { replay, replayBatch } from '../src/app/replay.js';
import { scan } from '../src/app/scan.js';
import { LocalExecutor } from '../src/adapters/local-executor.js';
import type { Executor, ExecJob } from '../src/core/ports.js';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = 20;
const CLOCK = '2025-12-12T10:15:30Z';
const SCRIPT = 'process.stdout.write("ok\\n");\n';

async function overhead(home: string): Promise<void> {
  // A scanner that does nothing: whatever the run costs beyond `node` starting is the executor's.
  const root = mkdtempSync(path.join(tmpdir(), 'stella-bench-scanner-'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'bench-scanner', type: 'module' }));
  mkdirSync(path.join(root, 'dist/src/scanner'), { recursive: true });
  const entry = path.join(root, 'dist/src/scanner/entry.js');
  writeFileSync(entry, SCRIPT);
  const engine = engineFromEnv(process.env);
  const img = await buildScannerImage({ blobs: new BlobStore(home), engine, sources: { ...defaultSources(REPO), repoRoot: root } });
  const executor = await DockerExecutor.create(engine);
  const out = path.join(home, 'out');
  mkdirSync(out);
  const job: ExecJob = {
    id: 'bench-overhead',
    readOnlyMounts: [],
    outputDir: out,
    args: [],
    env: { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' },
    frozenClock: CLOCK,
    cpus: 1,
    memoryBytes: 512 * 1024 * 1024,
    timeoutMs: 60_000,
    imageId: img.image_id,
  };
  await executor.run(job); // warm the engine's caches once
  const docker: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    docker.push(
      await timeMs(async () => {
        const r = await executor.run(job);
        if (r.exitCode !== 0) throw new Error(`bench container failed: ${r.stderr}`);
      }),
    );
  }
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', LANG: 'C', LC_ALL: 'C', ...faketimeEnv(CLOCK, findFaketimeLib()) };
  const direct: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    direct.push(
      await timeMs(() => {
        const r = spawnSync(process.execPath, [entry], { env, stdio: 'ignore' });
        if (r.status !== 0) throw new Error('direct run failed');
      }),
    );
  }
  const d = median(docker);
  const n = median(direct);
  report({ bench: 'replay', what: `container run create→remove (median of ${RUNS})`, value: d, unit: 'ms', baseline: { tool: 'node directly', value: n }, better: 'lower' });
  report({ bench: 'replay', what: 'per-replay overhead (docker − direct)', value: d - n, unit: 'ms', better: 'lower' });
  rmSync(root, { recursive: true, force: true });
}

/** Fresh scans of the golden canary inputs (in process), against one feed bundle and prod-default. */
async function goldenScans(home: string): Promise<string[]> {
  const canaries = JSON.parse(readFileSync(path.join(REPO, 'fixtures/canaries/canaries.json'), 'utf8')) as {
    clock: string;
    feed: { generated_at: string };
    canaries: Array<{ id: string; input: string }>;
  };
  const feed = path.join(home, 'feed.tar.zst');
  const r = spawnSync(process.execPath, [path.join(REPO, 'dist/bin/stella.js'), 'feed', 'snapshot', path.join(REPO, 'fixtures/third_party/osv'), '--out', feed, '--generated-at', canaries.feed.generated_at], {
    env: { ...process.env, STELLA_HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`feed snapshot failed: ${r.stderr}`);
  const blobs = new BlobStore(home);
  const manifests: string[] = [];
  for (const c of canaries.canaries) {
    const res = await scan({
      input: path.join(REPO, 'fixtures/third_party', c.input),
      feedRef: feed,
      policyRef: path.join(REPO, 'fixtures/policies/prod-default.yaml'),
      outDir: path.join(home, 'scans'),
      clock: canaries.clock,
      blobs,
      now: () => new Date(canaries.clock),
      env: { TZ: 'UTC', LANG: 'C' },
    });
    manifests.push(path.join(res.dir, 'manifest.json'));
  }
  return manifests;
}

/** Replays per minute for the whole set through one executor at a given concurrency. */
async function throughput(home: string, manifests: string[], executor: Executor, concurrency: number, prepareImage?: (id: `sha256:${string}`) => Promise<unknown>): Promise<number> {
  const blobs = new BlobStore(home);
  const outDir = mkdtempSync(path.join(home, `replays-${executor.kind}-${concurrency}-`));
  let tick = 0;
  const t0 = performance.now();
  const items = await replayBatch(manifests, concurrency, (m) =>
    replay({ manifestPath: m, outDir, executor, blobs, now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)), ...(prepareImage ? { prepareImage } : {}) }),
  );
  const minutes = (performance.now() - t0) / 60_000;
  const bad = items.filter((i) => i.result?.record.status !== 'passed');
  if (bad.length) throw new Error(`bench replays did not pass: ${bad.map((b) => b.error ?? b.result?.record.error).join('; ')}`);
  return items.length / minutes;
}

export default async function (): Promise<void> {
  const home = mkdtempSync(path.join(tmpdir(), 'stella-bench-replay-'));
  try {
    await overhead(home);
    const manifests = await goldenScans(home);
    const blobs = new BlobStore(home);
    const engine = engineFromEnv(process.env);
    const docker = await DockerExecutor.create(engine);
    const prepareImage = (id: `sha256:${string}`) => ensureImage(id, { blobs, engine });
    // Build (or load) the image before timing anything.
    await prepareImage(JSON.parse(readFileSync(manifests[0], 'utf8')).scanner.scanner_image_digest);
    const local = await throughput(home, manifests, new LocalExecutor({ entry: scannerEntryPath(REPO) }), 1);
    for (const c of [1, 2]) {
      const perMin = await throughput(home, manifests, docker, c, prepareImage);
      report({
        bench: 'replay',
        what: `batch replays/min, docker, concurrency ${c} (${manifests.length} canaries)`,
        value: perMin,
        unit: '/min',
        baseline: { tool: 'local executor, serial', value: local },
        better: 'higher',
      });
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
