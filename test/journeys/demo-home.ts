// One demo history for every journey test file: `stella demo` (the built CLI, as `npm start` runs it)
// is built once into a cache keyed by what shapes it (the built code and the demo spec), under a lock
// so test files running in parallel wait for one build instead of racing two. Each test then works on
// its own home: a copy of the index and the demo marker, the blob store hard-linked (blobs are
// immutable), while the indexed records stay in the cache, read-only.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const CACHE = path.join(tmpdir(), 'stella-journey-demo');

function hashTree(h: ReturnType<typeof createHash>, dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) hashTree(h, p);
    else h.update(path.relative(REPO, p)).update('\0').update(readFileSync(p)).update('\0');
  }
}

/** What the history depends on: the CLI bundle and its chunks, the scanner graph, the spec, node. */
function cacheKey(): string {
  const h = createHash('sha256').update(process.execPath).update('\0');
  for (const d of ['dist/bin', 'dist/chunks', 'dist/src/scanner', 'dist/src/core', 'fixtures/demo']) hashTree(h, path.join(REPO, d));
  return h.digest('hex').slice(0, 16);
}

/** A lock older than any build is a killed test run's: taken over. */
const STALE_LOCK_MS = 20 * 60_000;

export interface DemoBuild {
  /** The cached home (read it, never write to it). */
  home: string;
  marker: { now: string; scans: number; replays: number; failing: number; causes: Record<string, number> };
  /** Wall time of the build, when this process built it (null: found in the cache). */
  builtMs: number | null;
}

let memo: Promise<DemoBuild> | null = null;

/** The shared build (built by the first caller across all test processes). */
export function sharedDemo(): Promise<DemoBuild> {
  memo ??= build();
  return memo;
}

async function build(): Promise<DemoBuild> {
  mkdirSync(CACHE, { recursive: true });
  const key = cacheKey();
  const dir = path.join(CACHE, key);
  const lock = `${dir}.lock`;
  const ready = path.join(dir, 'ready');
  const done = (builtMs: number | null): DemoBuild => ({
    home: path.join(dir, 'home'),
    marker: JSON.parse(readFileSync(path.join(dir, 'home/demo/.complete.json'), 'utf8')),
    builtMs,
  });
  const deadline = Date.now() + 900_000;
  for (;;) {
    if (existsSync(ready)) return done(null);
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the shared demo build (lock ${lock}) did not finish in 15 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (existsSync(ready)) return done(null);
    // Older builds (another dist) are dead weight: ~500 MB each.
    for (const name of readdirSync(CACHE)) {
      if (name.startsWith(key) || name.endsWith('.lock') || existsSync(path.join(CACHE, `${name}.lock`))) continue;
      rmSync(path.join(CACHE, name), { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
    const t0 = Date.now();
    // The engine is never needed to build the history (DOCKER_HOST points nowhere to prove it); the
    // index records absolute directories, so it is built at its final place.
    mkdirSync(dir);
    const r = await runStella(['demo', '--json'], { env: { STELLA_HOME: path.join(dir, 'home'), DOCKER_HOST: 'unix:///nonexistent/stella.sock' }, timeoutMs: 900_000 });
    if (r.code !== 0) throw new Error(`stella demo failed (${r.code}): ${r.stderr}`);
    const ms = Date.now() - t0;
    writeFileSync(ready, `${ms}\n`);
    return done(ms);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A home of this test's own on the shared history: the index (so new rows land here), the demo
 * marker (a demo home's clock), the image records, and the blob store as hard links.
 */
export async function demoHomeCopy(prefix = 'stella-journey-'): Promise<{ home: string; build: DemoBuild }> {
  const b = await sharedDemo();
  const home = path.join(tempDir(prefix), '.stella');
  mkdirSync(path.join(home, 'demo'), { recursive: true });
  // The index: one consistent file (checkpointed by the build's close), copied with its WAL if any.
  for (const f of ['index.db', 'index.db-wal']) if (existsSync(path.join(b.home, f))) copyFileSync(path.join(b.home, f), path.join(home, f));
  copyFileSync(path.join(b.home, 'demo/.complete.json'), path.join(home, 'demo/.complete.json'));
  for (const [from, args] of [
    ['blobs', ['-al']],
    ['images', ['-a']],
  ] as const) {
    const r = spawnSync('cp', [...args, path.join(b.home, from), path.join(home, from)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cp ${from}: ${r.stderr}`);
  }
  return { home, build: b };
}
