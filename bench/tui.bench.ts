// Workstation bench (SPEC §6) with 1,000,000 replay rows in the store: time to first frame, keypress
// to frame latency (p50/p95 over 200 `j` presses and 20 filter changes) and peak RSS. The probe runs
// in a fresh process so its RSS is the workstation's alone. Then the real thing: `stella tui` (the
// bundled dist/bin/stella.js) in a pseudo-terminal, timed from exec to its first frame and to the
// dashboard's figures, beside `node -e 0` in the same pty. Targets: first frame < 500 ms from exec,
// p95 key < 50 ms, RSS < 300 MB.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { fmt, median, percentile, ptyTimes, report, shellMs } from './lib.js';
import { ptyCpuMs } from './pty-cpu.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.STELLA_TUI_BENCH_ROWS ?? 1_000_000);
const REASONS = ['feed_drift', 'policy_drift', 'scanner_drift', 'runtime_drift', 'external_io', 'nondeterminism'] as const;

/** Find the repo root (the bench runs from dist/bench). */
function repoRoot(): string {
  let d = here;
  while (!existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
  return d;
}

/** Advisories from the OSV fixtures (GHSA id, and the CVE alias a scanner reports), to make rows look like real ones. */
function advisories(root: string): Array<{ ghsa: string; cve: string }> {
  const dir = path.join(root, 'fixtures/third_party/osv/ghsa');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { id: string; aliases?: string[] })
    .map((a) => ({ ghsa: a.id, cve: (a.aliases ?? []).find((x) => x.startsWith('CVE-')) ?? a.id }));
}

/** A diff_summary as the classifier writes it: the finding under its CVE id, the feed record (GHSA) as evidence. */
function summaryOf(a: { ghsa: string; cve: string }, purl: string): unknown {
  const evidence = [{ kind: 'feed_finding', vulnerability_id: a.cve, purl, change: 'appeared', records: [{ id: a.ghsa, change: 'added', path: `ghsa/${a.ghsa}.json` }] }];
  return { items: [{ kind: 'vulnerability', vulnerability_id: a.cve, purl, change: 'appeared', a: null, b: 'high', evidence }] };
}

/** Build (once, cached in tmp) an index with ROWS replays, through the store's own ingest. */
async function buildDb(): Promise<string> {
  const dir = path.join(tmpdir(), `stella-tui-bench-${ROWS}-v2`);
  const db = path.join(dir, 'index.db');
  const { openStore } = await import('../store/sqlite-store.js');
  if (existsSync(path.join(dir, 'complete'))) {
    // A cached index from an older schema is migrated here, outside the measured open.
    await openStore(db).close();
    return db;
  }
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const store = openStore(path.join(tmp, 'index.db'));
  const ids = advisories(repoRoot());
  const ecos = ['npm', 'pypi', 'go', 'crates.io', 'maven'];
  const base = Date.UTC(2026, 10, 20);
  const BATCH = 20_000;
  const t0 = performance.now();
  for (let start = 0; start < ROWS; start += BATCH) {
    const scans = [];
    const replays = [];
    for (let i = start; i < Math.min(ROWS, start + BATCH); i++) {
      const hx = createHash('sha256').update(`r${i}`).digest('hex');
      const status = i % 53 === 7 ? 'error' : i % 9 === 0 ? 'failed' : 'passed';
      const reason = status === 'failed' ? REASONS[parseInt(hx.slice(0, 6), 16) % REASONS.length] : null;
      // 1M replays over ~90 days: one every ~8 seconds.
      const t = new Date(base - i * 7_776).toISOString();
      const eco = ecos[i % ecos.length];
      const scanId = `scan-${hx.slice(8, 24)}`;
      scans.push({
        scan_id: scanId, created_at: t, manifest_sha256: `sha256:${hx}`, scanner_version: `stella-scan 1.${i % 4}.0`, ecosystem: eco,
        base_os: i % 2 ? 'debian-12' : 'alpine-3.20', project: `project-${i % 97}`, regulated: i % 13 === 0, policy_set: i % 3 ? 'prod-default' : 'lenient',
        feed_digest: `sha256:${'f'.repeat(63)}${i % 7}`, policy_digest: `sha256:${'e'.repeat(64)}`, record_dir: null, manifest: { scan_id: scanId }, artifacts: [],
      });
      replays.push({
        replay_id: `rp-${hx.slice(0, 16)}`, original_scan_id: scanId, record_sha256: `sha256:${hx}`, status, bf_match: status === 'passed',
        sf_match: status !== 'error', pf_match: status !== 'error', auto_reason: reason, subtags: [], started_at: t, finished_at: t, duration_ms: 900 + (i % 300),
        scanner_version: `stella-scan 1.${i % 4}.0`, ecosystem: eco, policy_set: i % 3 ? 'prod-default' : 'lenient', base_os: i % 2 ? 'debian-12' : 'alpine-3.20',
        project: `project-${i % 97}`, feed_digest: `sha256:${'f'.repeat(63)}${i % 7}`, regulated: i % 13 === 0, executor_kind: 'docker', record_dir: null,
        manifest_sha256: `sha256:${hx}`, classifier_version: reason ? '1.0.0' : null, error: status === 'error' ? 'timeout' : null,
        diff_summary: reason ? summaryOf(ids[i % ids.length], `pkg:${eco}/p${i % 500}@1.0.0`) : null,
        manifest: null, executor: { kind: 'docker' }, warnings: [],
      });
    }
    await store.ingest({ scans, replays } as never);
  }
  await store.close();
  process.stdout.write(`tui        (built a ${ROWS}-replay index in ${fmt((performance.now() - t0) / 1000)} s; cached at ${dir})\n`);
  renameSync(tmp, dir);
  mkdirSync(path.join(dir, 'complete'));
  return db;
}

class BenchStdout extends EventEmitter {
  isTTY = true;
  columns = 80;
  rows = 24;
  writes = 0;
  last = '';
  onWrite: (() => void) | null = null;
  write = (s: string): boolean => {
    this.writes++;
    // Ink 6 brackets each frame with synchronized-output markers (ESC[?2026h / l): keep the frame.
    if (s.length > 24) this.last = s;
    this.onWrite?.();
    return true;
  };
}
class BenchStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (d: string): void => {
    this.data = d;
    this.emit('readable');
  };
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export interface ProbeResult {
  /** From process start, module loading included. */
  firstFrameMs: number;
  /** From opening the store to the first frame. */
  openToFrameMs: number;
  /** From opening the store to the frame with the dashboard's figures. */
  openToDashboardMs: number;
  /** Filter change → the frame that also carries the new counts. */
  filterCountsMs: number[];
  keyMs: number[];
  filterMs: number[];
  maxRssMb: number;
}

/** In a fresh process: open the workstation on `dbPath` and time frames. Ink renders as in a terminal. */
export async function probe(dbPath: string): Promise<ProbeResult> {
  const React = await import('react');
  const { render } = await import('ink');
  const { openWorkstation } = await import('../src/app/workstation.js');
  const { Workstation } = await import('../components/workstation/workstation.js');
  const { makeTheme } = await import('../components/theme/theme.js');
  const stdout = new BenchStdout();
  const stdin = new BenchStdin();
  // The fake terminal holds no handle open; keep the event loop alive while measuring.
  const keepAlive = setInterval(() => undefined, 1000);
  const nextFrame = (): Promise<number> => new Promise((resolve) => {
    stdout.onWrite = () => {
      stdout.onWrite = null;
      resolve(performance.now());
    };
  });
  const first = nextFrame();
  const tOpen = performance.now();
  const { controller, close } = openWorkstation({ env: { DOCKER_HOST: 'unix:///nonexistent/bench.sock' }, cwd: process.cwd(), now: () => new Date('2026-11-21T00:00:00Z'), dbPath, width: 80, height: 24 });
  const app = render(React.createElement(Workstation, { controller, theme: makeTheme({ color: false, ascii: false }) }), { stdout: stdout as never, stdin: stdin as never, exitOnCtrlC: false, patchConsole: false });
  // performance.now() counts from process start: module loading is part of the first frame.
  const firstFrameMs = await first;
  while (!stdout.last.includes('gate:')) await new Promise((r) => setTimeout(r, 1));
  const dashboardMs = performance.now();
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const press = async (key: string): Promise<number> => {
    // Ink throttles frames to 30 fps; keys arrive spaced like fast typing so each gets its own frame.
    await pause(40);
    const frame = nextFrame();
    const t0 = performance.now();
    stdin.write(key);
    return (await frame) - t0;
  };
  await pause(50);
  await press('\r'); // dashboard → replays
  const keyMs: number[] = [];
  for (let i = 0; i < 200; i++) keyMs.push(await press('j'));
  const filterMs: number[] = [];
  const filterCountsMs: number[] = [];
  const changes = ['f', 'c', 'f', 's', 'c'];
  for (let i = 0; i < 20; i++) {
    await pause(40);
    const t0 = performance.now();
    const frame = nextFrame();
    stdin.write(changes[i % changes.length]);
    filterMs.push((await frame) - t0);
    // Then the frame whose status bar has the counts of the new filter.
    while (controller.getState().countsPending || stdout.last.includes('… replays')) await pause(2);
    filterCountsMs.push(performance.now() - t0);
  }
  app.unmount();
  close();
  clearInterval(keepAlive);
  if (!/rp-/.test(stdout.last) && stdout.writes < 200) throw new Error('the replay list never rendered');
  return { firstFrameMs, openToFrameMs: firstFrameMs - tOpen, openToDashboardMs: dashboardMs - tOpen, filterCountsMs, keyMs, filterMs, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

export default async function (): Promise<void> {
  const db = await buildDb();
  const r = spawnSync(process.execPath, [path.join(here, 'tui-probe.js'), db], {
    encoding: 'utf8',
    // No stdin: the probe drives its own fake terminal, and an open pipe would keep it alive.
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr.slice(0, 2000)}`);
  // Ink restores the cursor on exit (an escape sequence after the JSON): take the JSON object only.
  const json = /\{"firstFrameMs".*\}/.exec(r.stdout);
  if (!json) throw new Error(`probe printed no result: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  const p = JSON.parse(json[0]) as ProbeResult;
  const n = `${ROWS / 1e6}M rows`;
  report({ bench: 'tui', what: `first frame: open store → frame (${n})`, value: p.openToFrameMs, unit: 'ms', better: 'lower', target: '< 500 ms' });
  report({ bench: 'tui', what: `open store → dashboard figures (${n})`, value: p.openToDashboardMs, unit: 'ms', better: 'lower' });
  report({ bench: 'tui', what: `probe: first frame from process start (tsc modules, ${n})`, value: p.firstFrameMs, unit: 'ms', better: 'lower' });
  report({ bench: 'tui', what: `key j → frame p50 (200 presses)`, value: percentile(p.keyMs, 50), unit: 'ms', better: 'lower' });
  report({ bench: 'tui', what: `key j → frame p95 (200 presses)`, value: percentile(p.keyMs, 95), unit: 'ms', better: 'lower', target: '< 50 ms' });
  report({ bench: 'tui', what: `filter change → frame p50 (20)`, value: percentile(p.filterMs, 50), unit: 'ms', better: 'lower' });
  report({ bench: 'tui', what: `filter change → frame p95 (20)`, value: percentile(p.filterMs, 95), unit: 'ms', better: 'lower', target: '< 50 ms' });
  report({ bench: 'tui', what: `filter change → counts shown p50 (20)`, value: percentile(p.filterCountsMs, 50), unit: 'ms', better: 'lower' });
  report({ bench: 'tui', what: `filter change → counts shown p95 (20)`, value: percentile(p.filterCountsMs, 95), unit: 'ms', better: 'lower' });
  await searchByCve(db, n);
  report({ bench: 'tui', what: `peak RSS (${n})`, value: p.maxRssMb, unit: 'MB', better: 'lower', target: '< 300 MB' });

  // exec → first frame of the built CLI in a real terminal (a pty at 80×24), as a user starts it.
  const stella = path.join(repoRoot(), 'dist/bin/stella.js');
  const env = { ...process.env, NO_COLOR: '1', DOCKER_HOST: 'unix:///nonexistent/bench.sock' };
  const first: number[] = [];
  const figures: number[] = [];
  const node: number[] = [];
  // Interleaved with node -e 0, so a burst of background load hits both series alike.
  const RUNS = 9;
  for (let i = 0; i < RUNS; i++) {
    node.push((await ptyTimes([process.execPath, '-e', '0'], { env })).exitMs);
    const t = await ptyTimes([process.execPath, stella, 'tui', '--db', db], {
      env,
      marks: { frame: /Stella Replay - Dashboard/, figures: /gate: +\S/ },
      quit: 'q',
      timeoutMs: 120_000,
    });
    first.push(t.marks.frame);
    figures.push(t.marks.figures);
  }
  const base = median(node);
  report({ bench: 'tui', what: `stella tui in a pty: exec → first frame (${n})`, value: median(first), unit: 'ms', better: 'lower', baseline: { tool: 'node -e 0 in the same pty', value: base }, target: '< 500 ms' });
  // On a busy machine Node's own start stretches as much as ours: the difference is what we add.
  report({ bench: 'tui', what: `stella tui in a pty: first frame minus node -e 0`, value: median(first) - base, unit: 'ms', better: 'lower' });
  report({ bench: 'tui', what: `stella tui in a pty: exec → dashboard figures`, value: median(figures), unit: 'ms', better: 'lower', baseline: { tool: 'node -e 0 in the same pty', value: base } });
  // CPU to the first frame (all threads), beside the CPU of `node -e 0`: the load does not stretch it.
  const cpuNode: number[] = [];
  const cpuFirst: number[] = [];
  for (let i = 0; i < 5; i++) {
    cpuNode.push(await ptyCpuMs([process.execPath, '-e', '0'], { env }));
    cpuFirst.push(await ptyCpuMs([process.execPath, stella, 'tui', '--db', db], { env, mark: 'Stella Replay - Dashboard', marks: { frame: /Stella Replay - Dashboard/, figures: /gate: +\S/ }, quit: 'q', timeoutMs: 120_000 }));
  }
  report({ bench: 'tui', what: `stella tui CPU to first frame (median of 5, ${n})`, value: median(cpuFirst), unit: 'ms', better: 'lower', baseline: { tool: 'node -e 0 CPU to exit', value: median(cpuNode) } });
  process.stdout.write(`tui        (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores while measuring)\n`);
}

/**
 * `/CVE-…` at 1M: the first page and its counts as the workstation asks them (replay_terms), printed,
 * beside the sqlite3 shell doing the same search over the stored summaries (LIKE on the JSON).
 */
async function searchByCve(db: string, n: string): Promise<void> {
  const { openStore } = await import('../store/sqlite-store.js');
  const { parseFilterOrThrow } = await import('../src/core/filter/index.js');
  const cve = advisories(repoRoot())[3].cve;
  const store = openStore(db, { readonly: true });
  const filter = parseFilterOrThrow(cve);
  const runs: number[] = [];
  let page: Awaited<ReturnType<typeof store.pageReplays>> | null = null;
  let counts = { total: 0, failing: 0 };
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    [page, counts] = await Promise.all([store.pageReplays({ filter, sort: 'newest', limit: 20 }), store.countReplays(filter)]);
    runs.push(performance.now() - t0);
  }
  await store.close();
  if (!page || page.rows.length === 0) throw new Error(`search ${cve} found nothing`);
  process.stdout.write(`tui        first page of /${cve} (${counts.total} replays match, ${counts.failing} failing):\n`);
  for (const r of page.rows) process.stdout.write(`tui          ${r.replay_id}  ${r.finished_at}  ${r.status.padEnd(7)} ${String(r.tag ?? '').padEnd(15)} ${r.project}\n`);
  const like = `%"${cve}"%`;
  const sql = `SELECT replay_id FROM replay_runs WHERE diff_summary_json LIKE '${like}' ORDER BY finished_at DESC, replay_id DESC LIMIT 20; SELECT count(*) FROM replay_runs WHERE diff_summary_json LIKE '${like}';`;
  const base = shellMs(`sqlite3 -readonly ${JSON.stringify(db)} ${JSON.stringify(sql)}`);
  report({ bench: 'tui', what: `search by CVE: first page + counts (${n})`, value: median(runs), unit: 'ms', better: 'lower', baseline: { tool: 'sqlite3 LIKE on summaries', value: base }, target: '< 500 ms' });
}
