// The controller between the pure reducer and the world: it runs the reducer's effects against the
// ReplayStore and the re-run function it was given (never opening a database or Docker itself), and
// feeds results back as actions. `useWorkstation` binds it to Ink input and terminal resizes.
import { useEffect, useSyncExternalStore } from 'react';
import { useInput, useStdout, useApp } from 'ink';
import type { MismatchReason } from '../../src/core/formats.js';
import { errorText } from '../../src/core/errors.js';
import type { Cursor, DashboardData, Page, PageRequest, ReplayDetail, ReplayFilter, ReplayRow, ReplaySort, ReplayStore } from '../../src/core/ports.js';
import { tokenize, type KeyFlags } from '../keys/key-table.js';
import { SIDE_BY_SIDE_MIN_WIDTH, sideBySide, textDiffLines } from '../diff-view/diff-lines.js';
import type { CauseEvidence } from '../../src/core/classify/evidence.js';
import {
  currentFilter,
  initialState,
  PAGE_SIZE,
  reduce,
  startEffects,
  type Action,
  type Effect,
  type WorkstationState,
} from './use-workstation-state.js';

/** Progress of a re-run, one way: the workstation draws it, never steers through it. */
export type RerunEvent =
  | { kind: 'start'; id: string; index: number; total: number }
  | { kind: 'progress'; id: string; text: string }
  | { kind: 'done'; id: string; ok: boolean; status?: 'passed' | 'failed' | 'error'; newReplayId: string | null; message: string };

export type RerunFn = (ids: string[], onEvent: (e: RerunEvent) => void) => Promise<void>;

export interface EngineStatus {
  available: boolean;
  reason: string | null;
}

export interface WorkstationDeps {
  store: ReplayStore;
  /** Who retags (audit rows). */
  who: string;
  now: () => Date;
  rerun: RerunFn | null;
  /** Resolved once at start; the workstation opens before the answer arrives. */
  engine: Promise<EngineStatus> | EngineStatus;
  /** Unified raw canonical diff of the replay against its original (for `d`). */
  rawDiff: (detail: ReplayDetail) => string | Promise<string>;
  /** Unified manifest/environment diff (for `m`). */
  manifestDiff: (detail: ReplayDetail) => string | Promise<string>;
  /** The cause's evidence from the original and replay records (the Diff screen opens on it); none: not shown. */
  evidence?: (detail: ReplayDetail) => CauseEvidence | Promise<CauseEvidence>;
  /** The dashboard's figures at a time (assembled from the store's rollups by src/app/dashboard.ts). */
  dashboard: (now: Date) => Promise<DashboardData>;
  /** The keyset position of a row under a sort; the store's own when it offers one. */
  cursorOf: (row: ReplayRow, sort: ReplaySort) => Cursor;
  /**
   * Runs deferred work (counts, read-ahead pages); default: after the next frame is drawn (see
   * afterFrame), with a timer as a fallback when no frame comes.
   */
  defer?: (fn: () => void) => void;
  /** Counts off the UI thread (a worker with its own read-only connection), when available. */
  countAsync?: (filter: ReplayFilter) => Promise<{ total: number; failing: number }>;
  /** Pages off the UI thread; used for free text, whose rare matches walk the whole index. */
  pageAsync?: (req: PageRequest) => Promise<Page>;
}

export { errorText } from '../../src/core/errors.js';

export const ENGINE_HINT = 'dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false &';

export class WorkstationController {
  private state: WorkstationState;
  private readonly listeners = new Set<() => void>();
  private onQuit: (() => void) | null = null;
  /** Bumped by every reload, so counts of an older filter never overwrite newer ones. */
  private generation = 0;
  /** Bumped whenever the window is replaced, so a deferred page for the old window is dropped. */
  private pageGen = 0;
  private readonly fetching = new Set<'after' | 'before'>();
  private readonly deferred: Array<() => void> = [];
  private flushTimer: NodeJS.Timeout | null = null;

  /** Queue work for after the frame that shows the current state. */
  private later(fn: () => void): void {
    if (this.deps.defer) return this.deps.defer(fn);
    this.deferred.push(fn);
    this.flushTimer ??= setTimeout(() => this.flush(), 100);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const work = this.deferred.splice(0);
    for (const fn of work) fn();
  }

  /** Called by the view after each committed frame: deferred work runs once the frame is out. */
  afterFrame(): void {
    if (this.deferred.length) setImmediate(() => this.flush());
  }

  constructor(
    private readonly deps: WorkstationDeps,
    init: { width: number; height: number; openId?: string },
  ) {
    this.state = initialState(init);
  }

  getState = (): WorkstationState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  setOnQuit(fn: () => void): void {
    this.onQuit = fn;
  }

  /** Initial loads, then the engine check in the background. */
  start(): void {
    // The first frame goes out before any query: the dashboard and the list load right after it.
    this.later(() => this.runEffects(startEffects(this.state)));
    void Promise.resolve(this.deps.engine).then(
      (e) => this.dispatch({ type: 'engine', available: e.available, reason: e.reason }),
      (err: unknown) => this.dispatch({ type: 'engine', available: false, reason: errorText(err) }),
    );
  }

  /** Raw Ink input → one dispatch per key (a paste or `send-keys jjj` arrives as one string). */
  input(input: string, flags: KeyFlags): void {
    for (const token of tokenize(input, flags)) this.dispatch({ type: 'key', token });
  }

  dispatch = (action: Action): void => {
    const r = reduce(this.state, action);
    this.state = r.state;
    this.runEffects(r.effects);
    for (const l of this.listeners) l();
  };

  /**
   * Effects run in order; one that must land first (a page the cursor waits for at the edge) holds the
   * rest until it has, so a `then` move after it sees the new rows.
   */
  private runEffects(effects: Effect[]): void {
    for (let i = 0; i < effects.length; i++) {
      let pending: Promise<unknown> | void = undefined;
      try {
        pending = this.run(effects[i]);
      } catch (err) {
        this.showError(err);
      }
      if (pending && i + 1 < effects.length) {
        const rest = effects.slice(i + 1);
        void pending.then(() => this.runEffects(rest));
        return;
      }
    }
  }

  /** Free text may walk the whole index for a rare match: its pages run on the worker when there is one. */
  private pagesOffThread(filter: ReplayFilter): boolean {
    return Boolean(filter.text && this.deps.pageAsync);
  }

  private showError = (err: unknown): void => this.dispatch({ type: 'message', text: `error: ${errorText(err)}` });

  /** One page, from the worker (free text) or the store; `landed` decides whether it still applies. */
  private queryPage(req: PageRequest, landed: (page: Page) => void, failed: (err: unknown) => void = this.showError): Promise<void> {
    const page = this.pagesOffThread(req.filter) ? this.deps.pageAsync!(req) : this.deps.store.pageReplays(req);
    return page.then(landed, failed);
  }

  /** Run an effect's async work; whatever it throws lands on the message bar. */
  private settle(work: Promise<unknown>): void {
    work.catch(this.showError);
  }

  /** Runs one effect; returns a promise when later effects of the same action must wait for it. */
  private run(e: Effect): Promise<unknown> | void {
    const { store } = this.deps;
    const s = this.state;
    const filter = currentFilter(s);
    switch (e.kind) {
      case 'reload': {
        // Rows first (one keyset page: cheap), counts after the frame (a count over the whole filter).
        this.generation++;
        this.pageGen++;
        const gen = this.generation;
        const offThread = this.pagesOffThread(filter);
        if (offThread) {
          // The list empties at once and fills when the worker answers (unless the filter moved on).
          this.dispatch({ type: 'page', where: 'replace', page: { rows: [], hasMoreAfter: false, hasMoreBefore: false } });
          this.dispatch({ type: 'message', text: `searching for "${filter.text}"…` });
        }
        this.queryPage({ filter, sort: s.sort, limit: PAGE_SIZE }, (page) => {
          if (gen !== this.generation) return;
          this.dispatch({ type: 'page', where: 'replace', page });
          if (offThread) this.dispatch({ type: 'message', text: null });
        });
        this.later(() => {
          if (gen !== this.generation) return;
          const done = (c: { total: number; failing: number }): void => {
            if (gen === this.generation) this.dispatch({ type: 'counts', total: c.total, failing: c.failing });
          };
          const count = this.deps.countAsync ?? ((f: ReplayFilter) => store.countReplays(f));
          count(filter).then(done, this.showError);
        });
        return;
      }
      case 'fetch': {
        if (e.where === 'end') {
          const gen = ++this.pageGen;
          return this.queryPage({ filter, sort: s.sort, limit: PAGE_SIZE, fromEnd: true }, (page) => {
            if (gen === this.pageGen) this.dispatch({ type: 'page', where: 'end', page });
          });
        }
        // The reducer asks while two screens of rows are still ahead, so the page query runs after
        // this key's frame instead of inside it; one request per direction at a time (a worker page
        // keeps its direction busy until it lands).
        const where = e.where;
        if (!e.urgent && this.fetching.has(where)) return;
        this.fetching.add(where);
        const gen = this.pageGen;
        const fetchPage = (): Promise<void> | undefined => {
          const now = this.state;
          const edge = where === 'after' ? now.rows[now.rows.length - 1] : now.rows[0];
          if (gen !== this.pageGen || !edge || (where === 'after' ? !now.hasMoreAfter : !now.hasMoreBefore)) {
            this.fetching.delete(where);
            return undefined;
          }
          const at = this.deps.cursorOf(edge, now.sort);
          const f = currentFilter(now);
          const req = where === 'after' ? { filter: f, sort: now.sort, after: at, limit: PAGE_SIZE } : { filter: f, sort: now.sort, before: at, limit: PAGE_SIZE };
          return this.queryPage(
            req,
            (page) => {
              this.fetching.delete(where);
              // A page lands only where it was asked for: an urgent request may have extended the rows meanwhile.
              const rows = this.state.rows;
              const stillEdge = (where === 'after' ? rows[rows.length - 1] : rows[0])?.replay_id === edge.replay_id;
              if (gen === this.pageGen && stillEdge) this.dispatch({ type: 'page', where, page });
            },
            (err) => {
              this.fetching.delete(where);
              this.showError(err);
            },
          );
        };
        if (e.urgent) return fetchPage();
        this.later(() => void fetchPage());
        return;
      }
      case 'refresh':
        this.settle(this.refresh());
        return;
      case 'markAll':
        // The failing ones too, so the retag confirm can say how many passed (and are left alone).
        this.settle(
          Promise.all([store.idsMatching(filter), filter.failingOnly ? null : store.idsMatching({ ...filter, failingOnly: true })]).then(([ids, failingIds]) => {
            const failing = failingIds ? new Set(failingIds) : null;
            this.dispatch({ type: 'marks', ids, passed: failing ? ids.filter((id) => !failing.has(id)) : [] });
          }),
        );
        return;
      case 'openDiff':
        this.settle(
          store.getReplay(e.id).then(async (detail) => {
            this.dispatch({ type: 'detail', id: e.id, detail });
            await this.loadEvidence(e.id, detail);
          }),
        );
        return;
      case 'loadView':
        this.settle(this.loadView(e.id, e.view));
        return;
      case 'retag': {
        const ids = e.ids ?? [...s.marks].sort();
        const { tag, note } = e;
        const left = e.passing ? `, ${e.passing} passing left untagged` : '';
        this.settle(
          store
            .retag(ids, tag, { who: this.deps.who, at: this.deps.now().toISOString(), ...(note ? { note } : {}) })
            .then((r) => this.afterWrite(`retagged ${r.changed} of ${ids.length} as ${tag}${left} (u undoes)`)),
        );
        return;
      }
      case 'undo':
        this.settle(
          store
            .undoLastRetag({ who: this.deps.who, at: this.deps.now().toISOString() })
            .then((r) => this.afterWrite(r ? `undid retag ${r.batch_id.slice(0, 12)}: ${r.restored} restored` : 'nothing to undo')),
        );
        return;
      case 'rerun':
        void this.rerun(e.ids);
        return;
      case 'dashboard':
        this.settle(this.deps.dashboard(this.deps.now()).then((data) => this.dispatch({ type: 'dashboard', data })));
        return;
      case 'quit':
        this.onQuit?.();
        return;
      case 'then':
        this.dispatch(e.action);
        return;
      default: {
        const _exhaustive: never = e;
        return _exhaustive;
      }
    }
  }

  /** Counts and the rows on screen again, from the top of the window (after a write). */
  private async refresh(): Promise<void> {
    const { store } = this.deps;
    const s = this.state;
    const filter = currentFilter(s);
    const first = s.rows[0];
    const [c, head, page] = await Promise.all([
      store.countReplays(filter),
      !first || s.absStart === 0 ? null : store.getReplay(first.replay_id),
      !first || s.absStart === 0
        ? store.pageReplays({ filter, sort: s.sort, limit: Math.max(PAGE_SIZE, s.rows.length) })
        : store.pageReplays({ filter, sort: s.sort, after: this.deps.cursorOf(first, s.sort), limit: Math.max(1, s.rows.length - 1) }),
    ]);
    this.dispatch({ type: 'counts', total: c.total, failing: c.failing });
    this.dispatch({ type: 'refreshed', rows: head ? [head, ...page.rows] : page.rows, hasMoreAfter: page.hasMoreAfter });
  }

  /** The evidence of an opened diff, after its detail is on screen; a record that cannot be read says why. */
  private async loadEvidence(id: string, detail: ReplayDetail | null): Promise<void> {
    const read = this.deps.evidence;
    // A replay that did not finish has no outputs to compare: its error (with the remedy) is the fact.
    if (!read || !detail || detail.status === 'error') return;
    this.dispatch({ type: 'evidence', id, evidence: { kind: 'loading' } });
    try {
      this.dispatch({ type: 'evidence', id, evidence: { kind: 'ready', evidence: await read(detail) } });
    } catch (err) {
      this.dispatch({ type: 'evidence', id, evidence: { kind: 'unavailable', reason: errorText(err) } });
    }
  }

  private async loadView(id: string, view: 'raw' | 'manifest'): Promise<void> {
    const s = this.state;
    const detail = s.diff?.id === id && s.diff.detail ? s.diff.detail : await this.deps.store.getReplay(id);
    if (!detail) {
      this.dispatch({ type: 'message', text: `replay ${id} is not in the index` });
      return;
    }
    const text = view === 'raw' ? await this.deps.rawDiff(detail) : await this.deps.manifestDiff(detail);
    const title = view === 'raw' ? 'raw canonical diff: original (-) vs replay (+)' : 'manifest / environment: original (-) vs replay (+)';
    const unified = textDiffLines(title, text);
    // Original | replay in two columns when the terminal is wide enough, unified below that.
    const wide = this.state.width >= SIDE_BY_SIDE_MIN_WIDTH;
    this.dispatch({ type: 'viewText', id, view, lines: wide ? sideBySide(unified) : unified });
  }

  private async afterWrite(message: string): Promise<void> {
    const diffId = this.state.diff?.id;
    await Promise.all([
      this.refresh(),
      this.deps.dashboard(this.deps.now()).then((data) => this.dispatch({ type: 'dashboard', data })),
      diffId
        ? this.deps.store.getReplay(diffId).then(async (detail) => {
            this.dispatch({ type: 'detail', id: diffId, detail });
            // A retag changes the cause the evidence is read for.
            await this.loadEvidence(diffId, detail);
          })
        : null,
    ]);
    this.dispatch({ type: 'message', text: message });
  }

  private async rerun(ids: string[]): Promise<void> {
    const fn = this.deps.rerun;
    // `r` may come before the engine check has answered: wait for it (the same promise start() reads).
    const engine = await Promise.resolve(this.deps.engine).catch((err: unknown): EngineStatus => ({ available: false, reason: errorText(err) }));
    if (!fn || !engine.available) {
      this.dispatch({ type: 'rerun', state: null });
      this.dispatch({ type: 'message', text: `re-run unavailable: ${engine.reason ?? 'no executor'}` });
      return;
    }
    let doneN = 0;
    const counts = { passed: 0, failed: 0, error: 0 };
    // The next replay's start follows a result within the same tick, so the line keeps the previous
    // result beside the live one, and the summary keeps the last failure: neither is lost between frames.
    let last = '';
    let lastFailure = '';
    const total = ids.length;
    const live = (id: string, text: string): string => `re-run ${doneN}/${total}: ${id} ${text}${last ? ` (last: ${last})` : ''}`;
    try {
      await fn(ids, (ev) => {
        if (ev.kind === 'start') this.dispatch({ type: 'rerun', state: { running: true, done: doneN, total, line: live(ev.id, 'starting') } });
        else if (ev.kind === 'progress') this.dispatch({ type: 'rerun', state: { running: true, done: doneN, total, line: live(ev.id, ev.text) } });
        else {
          doneN++;
          counts[ev.status ?? (ev.ok ? 'passed' : 'error')]++;
          if (ev.status === 'failed' || !ev.ok) {
            // A message naming the record's file already names the replay.
            lastFailure = ev.message.includes(ev.id) ? ev.message : `${ev.id}: ${ev.message}`;
          }
          last = ev.message;
          this.dispatch({ type: 'rerun', state: { running: doneN < total, done: doneN, total, line: `re-run ${doneN}/${total}: ${ev.id} ${ev.message}` } });
          // Rows update as each replay finishes.
          this.run({ kind: 'refresh' });
        }
      });
      this.run({ kind: 'dashboard' });
      const summary = `re-run finished: ${counts.passed} passed, ${counts.failed} failed, ${counts.error} error${lastFailure ? ` - ${lastFailure}` : ''}`;
      this.dispatch({ type: 'rerun', state: { running: false, done: doneN, total, line: summary } });
    } catch (err) {
      this.dispatch({ type: 'rerun', state: { running: false, done: doneN, total, line: `re-run stopped: ${errorText(err)}` } });
    }
  }
}

/** Bind a controller to Ink: keys, terminal size (Ink 6 does not re-render on resize), quit. */
export function useWorkstation(controller: WorkstationController): WorkstationState {
  const state = useSyncExternalStore(controller.subscribe, controller.getState, controller.getState);
  const { stdout } = useStdout();
  const { exit } = useApp();
  useEffect(() => {
    controller.setOnQuit(() => exit());
  }, [controller, exit]);
  useEffect(() => {
    const onResize = (): void => controller.dispatch({ type: 'resize', width: stdout.columns || 80, height: stdout.rows || 24 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [controller, stdout]);
  useInput((input, key) => controller.input(input, key));
  // Passive effects run after Ink has written the frame.
  useEffect(() => controller.afterFrame());
  return state;
}

export type { MismatchReason };
