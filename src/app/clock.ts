// One clock per home. A demo home carries its own calendar (the "now" its build recorded in
// demo/.complete.json), so every reader of that home — plain `stella`, `stella tui`, fidelity, gate,
// metrics, badge, ticket — sees the same 30/90-day windows. A real home reads the wall clock. Audit
// times (retag, undo) and new records are always the wall clock: they are real events.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RFC3339 } from '../core/guards.js';

/** Where a demo home records its calendar (the demo build's completion marker). */
export const DEMO_CALENDAR_FILE = 'demo/.complete.json';

export interface HomeClock {
  /** The "now" of readers of this home. */
  now: () => Date;
  /** The demo calendar's instant and the file that holds it; null for a real home (wall clock). */
  calendar: { now: string; file: string } | null;
}

/** The clock of the home that holds `dbPath` (its index file). */
export function homeClock(dbPath: string, wall: () => Date): HomeClock {
  const file = path.join(path.dirname(dbPath), DEMO_CALENDAR_FILE);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return { now: wall, calendar: null };
  }
  let at: unknown;
  try {
    at = (JSON.parse(raw) as { now?: unknown }).now;
  } catch {
    at = undefined;
  }
  // A half-written or foreign marker is not a calendar: such a home is not a finished demo.
  if (typeof at !== 'string' || !RFC3339.test(at) || Number.isNaN(Date.parse(at))) return { now: wall, calendar: null };
  const instant = new Date(at);
  return { now: () => new Date(instant.getTime()), calendar: { now: at, file } };
}

/** The line a reader shows when it runs on a demo calendar. */
export function calendarNote(c: NonNullable<HomeClock['calendar']>): string {
  return `demo calendar: ${c.now} (${c.file}; real homes use the wall clock)`;
}
