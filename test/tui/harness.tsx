// Renders the real workstation (real SQLite store, seeded from fixtures) in ink-testing-library and
// drives it through Ink's stdin, waiting for frames rather than sleeping.
import path from 'node:path';
import React from 'react';
import { render } from 'ink-testing-library';
import { openStore, type SqliteStore } from '../../store/sqlite-store.js';
import { WorkstationController, type WorkstationDeps } from '../../components/workstation/use-workstation.js';
import { Workstation } from '../../components/workstation/workstation.js';
import { makeTheme, type Theme } from '../../components/theme/theme.js';
import { checkEngine, manifestDiffOf, rawDiffOf, storeCursorOf } from '../../src/app/workstation.js';
import { seed } from './seed.js';
import { dashboardOf } from '../../src/app/dashboard.js';

export const NOW = new Date('2026-11-21T00:00:00Z');
export const KEYS = {
  enter: '\r',
  escape: '\u001b',
  down: '\u001b[B',
  up: '\u001b[A',
  pagedown: '\u001b[6~',
  pageup: '\u001b[5~',
  tab: '\t',
  space: ' ',
  backspace: '\u007f',
};

export interface Harness {
  store: SqliteStore;
  controller: WorkstationController;
  frame(): string;
  press(...keys: string[]): Promise<void>;
  waitFor(pred: string | RegExp | ((f: string) => boolean), what?: string, ms?: number): Promise<string>;
  unmount(): void;
}

export async function openSeeded(dir: string, n: number): Promise<{ store: SqliteStore; ids: string[]; failing: string[] }> {
  const store = openStore(path.join(dir, 'index.db'));
  const s = await seed(store, n);
  return { store, ...s };
}

/** Strip ANSI so assertions read like the screen. */
export const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');

export async function mount(store: SqliteStore, opts: { width?: number; height?: number; openId?: string; theme?: Theme; deps?: Partial<WorkstationDeps> } = {}): Promise<Harness> {
  const deps: WorkstationDeps = {
    store,
    who: 'tester',
    now: () => NOW,
    rerun: null,
    // A socket that does not exist: the real engine check, answering "unreachable".
    engine: checkEngine({ DOCKER_HOST: 'unix:///nonexistent/stella-test.sock' }),
    rawDiff: (d) => rawDiffOf(store as never, d),
    manifestDiff: (d) => manifestDiffOf(store as never, d),
    dashboard: (now) => dashboardOf(store, now),
    cursorOf: storeCursorOf,
    ...opts.deps,
  };
  const controller = new WorkstationController(deps, { width: opts.width ?? 80, height: opts.height ?? 24, ...(opts.openId ? { openId: opts.openId } : {}) });
  controller.start();
  return { store, ...(await mountController(controller, opts.theme)) };
}

/**
 * Draw an already started controller (e.g. the one `openWorkstation` builds for `stella tui`) in
 * ink-testing-library. `frames()` is every frame written so far, for "was it ever shown" checks.
 */
export async function mountController(controller: WorkstationController, theme?: Theme): Promise<Omit<Harness, 'store'> & { frames(): string[] }> {
  const app = render(<Workstation controller={controller} theme={theme ?? makeTheme({ color: false, ascii: false })} />);
  const frame = (): string => plain(app.lastFrame() ?? '');
  const waitFor = async (pred: string | RegExp | ((f: string) => boolean), what = String(pred), ms = 5000): Promise<string> => {
    const test = typeof pred === 'string' ? (f: string) => f.includes(pred) : pred instanceof RegExp ? (f: string) => pred.test(f) : pred;
    const deadline = Date.now() + ms;
    for (;;) {
      const f = frame();
      if (test(f)) return f;
      if (Date.now() > deadline) throw new Error(`frame never showed ${what}; last frame:\n${f}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // Ink subscribes to stdin after the first render.
  await waitFor((f) => f.length > 0, 'a first frame');
  await new Promise((r) => setTimeout(r, 20));
  const press = async (...keys: string[]): Promise<void> => {
    for (const k of keys) {
      app.stdin.write(k);
      // Ink parses escape sequences per write: give each key its own tick.
      await new Promise((r) => setTimeout(r, k === KEYS.escape ? 30 : 5));
    }
  };
  return { controller, frame, frames: () => app.frames.map(plain), press, waitFor, unmount: () => app.unmount() };
}
