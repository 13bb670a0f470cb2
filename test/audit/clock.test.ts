// One clock per home: a demo home's calendar for every reader, the wall clock for audit rows.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRecord, realisticSpecs, writeRecord } from '../../bench/gen-records.js';
import { tempDir } from '../helpers/tmp.js';
import { runStella } from '../helpers/cli.js';
import { DEMO_CALENDAR_FILE, homeClock } from '../../src/app/clock.js';
import { DEMO_MARKER } from '../../src/app/demo.js';

const CALENDAR = '2025-03-01T06:00:00.000Z';
const home = tempDir('stella-clock-');
const records = path.join(home, 'records');
const env = { STELLA_HOME: home };
const marker = path.join(home, DEMO_CALENDAR_FILE);
let failedId = '';

beforeAll(async () => {
  const specs = realisticSpecs(120, new Date(CALENDAR), 5, 20);
  for (const s of specs) writeRecord(records, makeRecord(s));
  failedId = makeRecord(specs.find((s) => s.outcome === 'failed')!).replay.replay_id;
  const r = await runStella(['index', records], { env });
  expect(r.code, r.stderr).toBe(0);
  mkdirSync(path.dirname(marker), { recursive: true });
  writeFileSync(marker, JSON.stringify({ now: CALENDAR, scans: 1 }));
}, 120_000);

describe('one clock per home', () => {
  it('reads the calendar the demo build records; a real or damaged home reads the wall clock', () => {
    expect(DEMO_CALENDAR_FILE).toBe(DEMO_MARKER);
    const wall = (): Date => new Date('2030-01-01T00:00:00Z');
    const c = homeClock(path.join(home, 'index.db'), wall);
    expect(c.calendar).toEqual({ now: CALENDAR, file: marker });
    expect(c.now().toISOString()).toBe(CALENDAR);
    const other = tempDir('stella-clock-real-');
    expect(homeClock(path.join(other, 'index.db'), wall)).toMatchObject({ calendar: null });
    expect(homeClock(path.join(other, 'index.db'), wall).now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    mkdirSync(path.join(other, 'demo'));
    writeFileSync(path.join(other, DEMO_CALENDAR_FILE), '{"now": "yesterday"');
    expect(homeClock(path.join(other, 'index.db'), wall).calendar).toBeNull();
  });

  it('fidelity, gate and metrics on a demo home all end their window at its calendar and say so', async () => {
    const fid = await runStella(['fidelity', '--json'], { env });
    expect(fid.code, fid.stderr).toBe(0);
    const report = JSON.parse(fid.stdout) as { now: string; n: number };
    expect(report.now).toBe(CALENDAR);
    expect(report.n).toBeGreaterThan(50);
    expect(fid.stderr).toBe(`stella fidelity: demo calendar: ${CALENDAR} (${marker}; real homes use the wall clock)\n`);
    const gate = await runStella(['gate', '--json'], { env });
    expect(gate.stderr).toContain(`demo calendar: ${CALENDAR}`);
    expect(gate.stdout).not.toContain('no completed replay in the last');
    const metrics = await runStella(['metrics'], { env });
    expect(metrics.code).toBe(0);
    expect(metrics.stderr).toContain(`demo calendar: ${CALENDAR}`);
    // The same figures through --db from another directory: the clock follows the index's home.
    const viaDb = await runStella(['fidelity', '--json', '--db', path.join(home, 'index.db')], { env: { STELLA_HOME: tempDir('stella-clock-other-') } });
    expect(JSON.parse(viaDb.stdout)).toEqual(report);
  });

  it('audit rows carry the wall clock even on a demo home', async () => {
    const before = Date.now();
    const r = await runStella(['retag', '--ids', failedId, '--tag', 'external_io', '--who', 'tester'], { env });
    expect(r.code, r.stderr).toBe(0);
    const db = new Database(path.join(home, 'index.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM tag_events ORDER BY rowid DESC LIMIT 1').get() as Record<string, unknown>;
      const at = Date.parse(String(row.at));
      expect(at).toBeGreaterThanOrEqual(before - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1000);
      expect(row.who).toBe('tester');
    } finally {
      db.close();
    }
  });

  it('without the calendar the same home reads the wall clock (no note)', async () => {
    rmSync(marker);
    const fid = await runStella(['fidelity', '--json'], { env });
    expect(fid.stderr).toBe('');
    const report = JSON.parse(fid.stdout) as { now: string; n: number };
    expect(Math.abs(Date.parse(report.now) - Date.now())).toBeLessThan(60_000);
    expect(report.n).toBe(0);
  });
});
