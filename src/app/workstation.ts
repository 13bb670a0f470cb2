// Wires the workstation to the world: the SQLite store, the Docker engine for re-runs, record dirs
// for raw and manifest diffs. Components get all of this through WorkstationDeps and never open the
// database or Docker themselves.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import React from 'react';
import { render } from 'ink';
import { StellaError, errorText, isStellaError } from '../core/errors.js';
import { ARTIFACT_NAMES, type ReplayRecord, type ScanManifest } from '../core/formats.js';
import type { Page, PageRequest, ReplayDetail, ReplayFilter, ReplayStore } from '../core/ports.js';
import { cursorOf } from '../core/filter/sort.js';
import { dashboardOf } from './dashboard.js';
import type { WorkerQuery } from './query-worker.js';
import { openStore, type SqliteStore } from '../../store/sqlite-store.js';
import type { CauseEvidence } from '../core/classify/evidence.js';
import { storePath } from './store-path.js';
import { auditWho } from './who.js';
import { calendarNote } from './clock.js';
import { traceStartup } from './startup-trace.js';
import { WorkstationController, type EngineStatus, type RerunFn, type WorkstationDeps } from '../../components/workstation/use-workstation.js';
import { Workstation } from '../../components/workstation/workstation.js';
import { themeFromEnv, type Theme } from '../../components/theme/theme.js';
import { keepAttributes, plainOutput } from '../../components/theme/plain.js';

/** The keyset position of a row: the store's sort table (src/core/filter/sort.ts) applied to the row. */
export const storeCursorOf = cursorOf;

/** Is the Docker engine reachable? The reason says how to start it when it is not. */
export async function checkEngine(env: NodeJS.ProcessEnv): Promise<EngineStatus> {
  // Docker modules load lazily: dockerode alone costs hundreds of ms of start-up, and the first frame
  // must not wait for it.
  const { engineFromEnv, ping, START_ENGINE_HINT } = await import('../adapters/docker/engine.js');
  try {
    await ping(engineFromEnv(env));
    return { available: true, reason: null };
  } catch (e) {
    const msg = isStellaError(e) ? e.message : (e as Error)?.message ?? String(e);
    return { available: false, reason: msg.includes('dockerd') ? msg : `${msg}; ${START_ENGINE_HINT}` };
  }
}

async function originalDir(store: Pick<ReplayStore, 'getScan'>, detail: ReplayDetail): Promise<string> {
  const row = await store.getScan(detail.original_scan_id);
  if (!row?.record_dir) throw new StellaError('NOT_FOUND', `the original scan ${detail.original_scan_id} has no indexed record directory; index it with \`stella index DIR\``);
  return row.record_dir;
}

function replayDir(detail: ReplayDetail): string {
  if (!detail.record_dir) throw new StellaError('NOT_FOUND', `replay ${detail.replay_id} has no record directory in the index`);
  return detail.record_dir;
}

/**
 * What `d`, `m` and `r` need (records on disk, text diffs, what-if modes), loaded on the first of
 * them: none of it is on the first screen, and the workstation's first frame waits for every module
 * it imports.
 */
const recordModules = async () => {
  const [{ createTwoFilesPatch }, { loadRecord, readReplayFile }, { canonicalTextDiff }, { effectiveManifest, whatIfOfMode }, { causeEvidence }] = await Promise.all([
    import('diff'),
    import('./record.js'),
    import('./text-diff.js'),
    import('../core/record/index.js'),
    import('../core/classify/evidence.js'),
  ]);
  return { createTwoFilesPatch, loadRecord, readReplayFile, canonicalTextDiff, effectiveManifest, whatIfOfMode, causeEvidence };
};

/** `d`: unified canonical text diff of every artifact that differs, original (-) vs replay (+). */
export async function rawDiffOf(store: Pick<ReplayStore, 'getScan'>, detail: ReplayDetail): Promise<string> {
  const { loadRecord, canonicalTextDiff } = await recordModules();
  const a = loadRecord(await originalDir(store, detail));
  const b = loadRecord(replayDir(detail));
  const parts: string[] = [];
  for (const name of ARTIFACT_NAMES) {
    const x = a.artifacts[name];
    const y = b.artifacts[name];
    if (x.canonical_sha256 === y.canonical_sha256) continue;
    parts.push(canonicalTextDiff(x.schema, `original/${x.path}`, x.doc, `replay/${y.path}`, y.doc));
  }
  return parts.join('\n');
}

/** The Diff screen's evidence: the cause's facts read from the original and replay records (src/core/classify/evidence.ts). */
export async function evidenceOf(store: Pick<ReplayStore, 'getScan'>, detail: ReplayDetail): Promise<CauseEvidence> {
  const { loadRecord, causeEvidence } = await recordModules();
  const original = loadRecord(await originalDir(store, detail));
  const replay = loadRecord(replayDir(detail));
  return causeEvidence({
    original,
    replay,
    recorded: { tag: detail.tag, auto: detail.auto_reason, subtags: detail.subtags, diff_summary: detail.diff_summary, warnings: detail.warnings },
  });
}

/** JSON with sorted keys, one value per line, so a text diff lines up field by field. */
function sortedJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sort(o[k])]));
    }
    return x;
  };
  return JSON.stringify(sort(v), null, 2) + '\n';
}

/** The replay.json of an indexed replay record (for its `mode`), or null when the record has none. */
async function replayRecordOf(detail: ReplayDetail): Promise<ReplayRecord | null> {
  if (!detail.record_dir) return null;
  const file = path.join(detail.record_dir, 'replay.json');
  return existsSync(file) ? (await recordModules()).readReplayFile(file) : null;
}

/**
 * `m`: the pinned manifest and the environment the original ran in vs what the replay ran with. A
 * what-if replay keeps the original manifest.json on disk; the manifest shown on the replay side is
 * the one the scanner saw, with the overrides of its mode applied, so the overridden digest shows.
 */
export async function manifestDiffOf(store: Pick<ReplayStore, 'getScan'>, detail: ReplayDetail): Promise<string> {
  const { createTwoFilesPatch, effectiveManifest, whatIfOfMode } = await recordModules();
  const scan = await store.getScan(detail.original_scan_id);
  const original = scan ? (scan.manifest as Record<string, unknown>) : null;
  const record = await replayRecordOf(detail);
  const pinned = (detail.manifest ?? null) as ScanManifest | null;
  const replayed = (pinned && record ? effectiveManifest(pinned, whatIfOfMode(record.mode)) : pinned) as Record<string, unknown> | null;
  const out: string[] = [];
  if (record) out.push(`replay mode: ${record.mode}`);
  out.push(createTwoFilesPatch('original/manifest.json', 'replay/manifest.json', sortedJson(original), sortedJson(replayed), undefined, undefined, { context: 2 }));
  const env = (original?.environment ?? null) as Record<string, unknown> | null;
  const ex = (detail.executor ?? null) as Record<string, unknown> | null;
  if (env || ex) {
    // The executor block of replay.json against the manifest's pinned environment: same field names.
    const pick = (o: Record<string, unknown> | null) => (o ? Object.fromEntries(Object.keys(env ?? {}).map((k) => [k, o[k] ?? null])) : null);
    // Docker's NetworkMode `none` is what the manifest calls `disabled` (the classifier reads them
    // alike); shown raw, every Docker replay would carry a network "difference".
    const executorSide = pick(ex);
    if (executorSide && executorSide.network === 'none') executorSide.network = 'disabled';
    const [a, b] = [sortedJson(pick(env)), sortedJson(executorSide)];
    if (a === b) out.push(`environment: the replay ran in the pinned environment (${Object.keys(env ?? {}).sort().join(', ')})`);
    else out.push(createTwoFilesPatch('original/environment', 'replay/executor', a, b, undefined, undefined, { context: 2 }));
  }
  return out.join('\n');
}

/** Re-run replays through the Docker executor, index each new record, report per replay. */
export function dockerRerun(store: ReplayStore, opts: { env: NodeJS.ProcessEnv; cwd: string; now: () => Date; home: string }): RerunFn {
  return async (ids, onEvent) => {
    const [{ makeExecutor }, { BlobStore }, { replay }, { indexRecords }, { whatIfOfMode }] = await Promise.all([
      import('./executors.js'),
      import('../adapters/blob-store.js'),
      import('./replay.js'),
      import('./indexer.js'),
      recordModules(),
    ]);
    const blobs = BlobStore.fromEnv(opts.env, opts.cwd);
    const { executor, prepareImage } = await makeExecutor('docker', opts, blobs);
    const outDir = path.join(opts.home, 'replays');
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      onEvent({ kind: 'start', id, index: i, total: ids.length });
      try {
        const detail = await store.getReplay(id);
        if (!detail) throw new StellaError('NOT_FOUND', `replay ${id} is not in the index`);
        // The new run is compared with the ORIGINAL scan (its outputs.json sits beside its manifest),
        // not with the replay being re-run, and keeps that replay's what-if overrides: re-running a
        // what-if replay asks the same question again.
        const record = await replayRecordOf({ ...detail, record_dir: replayDir(detail) });
        const whatIf = record ? whatIfOfMode(record.mode) : {};
        const manifestPath = path.join(await originalDir(store, detail), 'manifest.json');
        const r = await replay({
          manifestPath,
          whatIf,
          outDir,
          executor,
          blobs,
          now: opts.now,
          env: opts.env,
          ...(prepareImage ? { prepareImage } : {}),
          onEvent: (e) => {
            if (e.kind === 'log') onEvent({ kind: 'progress', id, text: e.message.slice(0, 60) });
            else if (e.kind === 'progress') onEvent({ kind: 'progress', id, text: `${e.done}/${e.total} ${e.label ?? ''}` });
          },
        });
        if (r.dir) await indexRecords(store, [r.dir]);
        onEvent({ kind: 'done', id, ok: r.record.status !== 'error', status: r.record.status, newReplayId: r.record.replay_id, message: `${r.record.status} -> ${r.record.replay_id}` });
      } catch (e) {
        // An unreachable engine stops the batch; a per-replay problem is reported on that row.
        if (isStellaError(e) && e.code === 'ENGINE_UNREACHABLE') throw e;
        onEvent({ kind: 'done', id, ok: false, status: 'error', newReplayId: null, message: errorText(e) });
      }
    }
  };
}

export interface WorkstationOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The home's clock (a demo home's calendar, else the wall clock): the dashboard's windows. */
  now: () => Date;
  /** The wall clock, for audit rows and new records (default: now). */
  wallNow?: () => Date;
  /** Set when `now` is a demo home's calendar: said on screen. */
  calendar?: { now: string; file: string } | null;
  openId?: string;
  dbPath?: string;
  theme?: Theme;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** Open the index, turning SQLite's own failures (not a database, unreadable) into one clear line. */
export function openIndex(dbPath: string, opts: { readonly?: boolean } = {}): SqliteStore {
  try {
    return openStore(dbPath, opts);
  } catch (e) {
    if (isStellaError(e)) throw e.withFile(dbPath);
    const msg = (e as Error)?.message ?? String(e);
    throw new StellaError('IO', `cannot open the index (${msg}); rebuild it with \`stella index DIR\` or point STELLA_HOME elsewhere`, { file: dbPath }, { cause: e });
  }
}

export interface OpenedWorkstation {
  controller: WorkstationController;
  store: SqliteStore;
  dbPath: string;
  /** Closes the store and the query worker. */
  close(): void;
}

export interface QueryWorker {
  count: (f: ReplayFilter) => Promise<{ total: number; failing: number }>;
  page: (req: PageRequest) => Promise<Page>;
  close: () => void;
}

/**
 * Whole-filter queries on a worker thread; null when the compiled worker is not there (running from
 * sources). The thread starts with the first query, not here: its start-up (an isolate, the store's
 * modules, a connection) would compete with the first frame for the CPU; the first count is asked
 * after that frame is out.
 */
export function queryWorker(dbPath: string): QueryWorker | null {
  // Beside this module (tsc's dist/src/app), or from the bundle's chunk directory (dist/chunks).
  const file = ['./query-worker.js', '../src/app/query-worker.js'].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((f) => existsSync(f));
  if (file === undefined) return null;
  let worker: Worker | null = null;
  let closed = false;
  let seq = 0;
  const waiting = new Map<number, { resolve: (r: never) => void; reject: (e: Error) => void }>();
  const started = (): Worker => {
    if (worker) return worker;
    const w = new Worker(file, { workerData: { dbPath } });
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; result?: unknown; message?: string }) => {
      const pending = waiting.get(m.id);
      waiting.delete(m.id);
      if (!pending) return;
      if (m.ok) pending.resolve(m.result as never);
      else pending.reject(new Error(m.message ?? 'query failed'));
    });
    w.on('error', (e) => {
      for (const pending of waiting.values()) pending.reject(e);
      waiting.clear();
    });
    traceStartup('query worker started');
    return (worker = w);
  };
  const ask = <T>(q: DistributiveOmit<WorkerQuery, 'id'>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      // After close (the user quit while a count was queued) nothing starts: the query never answers.
      if (closed) return;
      waiting.set(id, { resolve: resolve as (r: never) => void, reject });
      started().postMessage({ ...q, id });
    });
  return {
    count: (filter) => ask({ kind: 'count', filter }),
    page: (req) => ask({ kind: 'page', req }),
    close: () => {
      closed = true;
      void worker?.terminate();
    },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Open the store and build the controller (no terminal yet): shared by the CLI, tests and the bench. */
export function openWorkstation(o: WorkstationOptions & { width: number; height: number }): OpenedWorkstation {
  const dbPath = storePath(o.env, o.cwd, o.dbPath);
  const home = path.dirname(dbPath);
  const fresh = !existsSync(dbPath);
  const store = openIndex(dbPath);
  traceStartup('index opened');
  const deps: WorkstationDeps = {
    store,
    who: auditWho(o.env),
    // The controller stamps audit rows with deps.now: the wall clock. Its dashboard runs on the home's.
    now: o.wallNow ?? o.now,
    // Well after the first frames: the engine check loads dockerode (hundreds of ms of module code).
    engine: new Promise<EngineStatus>((resolve) => setTimeout(() => resolve(checkEngine(o.env)), 1000).unref()),
    rerun: dockerRerun(store, { env: o.env, cwd: o.cwd, now: o.wallNow ?? o.now, home }),
    rawDiff: (d) => rawDiffOf(store, d),
    manifestDiff: (d) => manifestDiffOf(store, d),
    evidence: (d) => evidenceOf(store, d),
    dashboard: () => dashboardOf(store, o.now()).then((d) => (traceStartup('dashboard figures'), d)),
    cursorOf: storeCursorOf,
  };
  const queries = fresh ? null : queryWorker(dbPath);
  if (queries) {
    deps.countAsync = queries.count;
    deps.pageAsync = queries.page;
  }
  const controller = new WorkstationController(deps, { width: o.width, height: o.height, ...(o.openId ? { openId: o.openId } : {}) });
  controller.start();
  // One indexed row answers "is there anything?" without counting a million.
  const empty = `the index ${dbPath} is empty: \`stella index DIR\` or \`stella demo\``;
  if (fresh) controller.dispatch({ type: 'message', text: empty });
  else if (o.calendar) controller.dispatch({ type: 'message', text: calendarNote(o.calendar) });
  else void store.pageReplays({ filter: {}, sort: 'newest', limit: 1 }).then((p) => p.rows.length === 0 && controller.dispatch({ type: 'message', text: empty }), () => undefined);
  return {
    controller,
    store,
    dbPath,
    close: () => {
      queries?.close();
      store.close();
    },
  };
}

/** Run the workstation on the terminal until the user quits. */
export async function runWorkstation(o: WorkstationOptions): Promise<void> {
  const theme = o.theme ?? themeFromEnv(o.env);
  keepAttributes(theme, o.stdout ?? process.stdout);
  const stdout = filteredStream(o.stdout ?? process.stdout, plainOutput(theme));
  const opened = openWorkstation({ ...o, width: stdout.columns || 80, height: stdout.rows || 24 });
  const { controller } = opened;
  traceStartup('controller started');
  try {
    const app = render(React.createElement(Workstation, { controller, theme }), {
      stdout,
      stdin: o.stdin ?? process.stdin,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    traceStartup('first render returned');
    await app.waitUntilExit();
  } finally {
    opened.close();
  }
}

/** The terminal stream with every string written through `transform` (ASCII-only, no colour); itself when null. */
export function filteredStream(out: NodeJS.WriteStream, transform: ((s: string) => string) | null): NodeJS.WriteStream {
  if (!transform) return out;
  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
    return (out.write as (c: string, ...r: unknown[]) => boolean)(transform(text), ...rest);
  };
  return new Proxy(out, {
    get(target, key) {
      if (key === 'write') return write;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
