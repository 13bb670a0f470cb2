// Evidence first (issue 13, item 8), in tmux at 80×24 on the built CLI over the demo history the
// product ships: a scanner_drift row, a runtime_drift [tz] row and a nondeterminism [rng] row, each
// opened from the replay list, show their evidence on the first screen of the Diff view — the image
// digests, the time zones and the random ids read from the records themselves (SQLite and the record
// files), whole, never cut. Under `script` with --ascii and NO_COLOR, the raw bytes are checked too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { runStella, STELLA_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { stripColour } from '../../components/theme/plain.js';

let term: TmuxTerminal | null = null;
afterAll(() => term?.kill());

const home = tempDir('stella-tui-evidence-');
beforeAll(async () => {
  const r = await runStella(['demo', '--json'], { env: { STELLA_HOME: home }, timeoutMs: 600_000 });
  expect(r.code, r.stderr).toBe(0);
}, 600_000);

interface Row {
  replay_id: string;
  record_dir: string;
  subtags_json: string;
  executor_json: string;
  mode: string;
  original_manifest: string;
  original_dir: string;
}

test('80×24: scanner_drift, runtime_drift [tz] and nondeterminism [rng] rows open on their evidence', async () => {
  const db = new Database(path.join(home, 'index.db'), { readonly: true });
  const first = (cause: string, subtags: string): Row => {
    const row = db
      .prepare(
        `SELECT r.replay_id, r.record_dir, r.subtags_json, r.executor_json, r.mode, s.manifest_json AS original_manifest, s.record_dir AS original_dir
           FROM replay_runs r JOIN scan_manifests s ON s.scan_id = r.original_scan_id
          WHERE r.auto_reason = ? AND r.subtags_json = ? ORDER BY r.replay_id LIMIT 1`,
      )
      .get(cause, subtags) as Row | undefined;
    expect(row, `a ${cause} ${subtags} row in the demo history`).toBeDefined();
    return row!;
  };
  const scanner = first('scanner_drift', '[]');
  const tz = first('runtime_drift', '["tz"]');
  const rng = first('nondeterminism', '["rng"]');
  db.close();

  const log = path.join(home, 'typescript');
  const inner = `env -u CI -u CONTINUOUS_INTEGRATION -u FORCE_COLOR NO_COLOR=1 STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} tui --ascii`;
  term = tmuxTerminal(`stella-evidence-${process.pid}`, `script -q -f -c '${inner}' ${log}; sleep 30`, { width: 80, height: 24 });
  const { keys, waitFor, tmux } = term;
  await waitFor(/gate: \w+/, 'the dashboard', 20_000);
  // Item 5 on the same home: `i` on the dashboard shows the gate with every reason in full, as
  // `stella gate --json` gives them (the same clock: the demo's calendar).
  const gate = JSON.parse((await runStella(['gate', '--json'], { env: { STELLA_HOME: home } })).stdout) as { state: string; reasons: string[] };
  expect(gate.reasons.length).toBeGreaterThan(0);
  keys('i');
  const pane = await waitFor(new RegExp(`^gate ${gate.state.toUpperCase()}\\ngate: ${gate.state.toUpperCase()}$`, 'm'), 'the gate in the detail pane');
  for (const r of gate.reasons) expect(pane.replace(/\s+/g, ' ')).toContain(`- ${r}`);
  keys('Escape');
  await waitFor('Top offenders', 'the pane closed, the dashboard again');
  keys('Enter');
  await waitFor('REPLAY', 'the replay list');

  /** Search the list for one replay id, open it, and return the first screen of its Diff view once the evidence is on it. */
  let prev = '';
  const open = async (id: string, cause: string): Promise<string> => {
    keys('/');
    await waitFor('Enter apply, Esc cancel', 'the filter prompt');
    if (prev) keys(...Array<string>(prev.length).fill('BSpace'));
    await waitFor('\n/_ ', 'an empty prompt');
    prev = id;
    keys('-l', id);
    keys('Enter');
    await waitFor(new RegExp(`\\n1 replays \\|[\\s\\S]*`), `the one row ${id}`);
    await waitFor((f) => f.split('\n').some((l) => l.startsWith('>') && l.includes(id.slice(0, 12))), `the cursor on ${id}`);
    keys('Enter');
    const screen = await waitFor(new RegExp(`semantic diff of ${id}[\\s\\S]*Evidence for ${cause}`), `the evidence of ${id}`);
    // Every line fits the 80 columns and no evidence line is cut (the table's cut marker is `~`).
    const lines = screen.split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    const from = lines.findIndex((l) => l.includes('Evidence for'));
    for (const l of lines.slice(from).filter((x) => /^ {2}[-+ ] /.test(x))) expect(l.trimEnd().endsWith('~'), l).toBe(false);
    return screen;
  };
  const back = async () => {
    keys('Escape');
    await waitFor((f) => f.includes('REPLAY') && !f.includes('semantic diff of'), 'back on the list');
  };

  // scanner_drift: the original's pinned image and the image the replay ran, both whole, - and +.
  const sOrig = (JSON.parse(scanner.original_manifest) as { scanner: { scanner_image_digest: string } }).scanner.scanner_image_digest;
  const sRan = (JSON.parse(scanner.executor_json) as { image_digest: string }).image_digest;
  expect(sOrig).not.toBe(sRan);
  let f = await open(scanner.replay_id, 'scanner_drift');
  expect(f).toContain('SF match  PF match  cause scanner_drift');
  expect(f).toContain('scanner image  $.scanner.scanner_image_digest');
  expect(f).toMatch(new RegExp(`^ {2}- ${sOrig}$`, 'm'));
  expect(f).toMatch(new RegExp(`^ {2}\\+ ${sRan}$`, 'm'));
  // `i`: the same evidence in full in the detail pane.
  keys('i');
  f = await waitFor('evidence: the replay ran another scanner', 'the detail pane with the evidence');
  expect(f.replace(/\s+/g, ' ')).toContain(`${sOrig} -> ${sRan}`);
  keys('Escape');
  await waitFor((x) => x.includes('semantic diff of') && !x.includes('evidence: the replay'), 'the pane closed');
  await back();

  // runtime_drift [tz]: the zone the original pinned and the zone the executor ran in.
  const tzOrig = (JSON.parse(tz.original_manifest) as { environment: { tz: string } }).environment.tz;
  const tzRan = (JSON.parse(tz.executor_json) as { tz: string }).tz;
  expect(tzOrig).not.toBe(tzRan);
  f = await open(tz.replay_id, 'runtime_drift \\[tz\\]');
  expect(f).toContain('SF match  PF match  cause runtime_drift [tz]');
  expect(f).toContain(`time zone  executor tz: ${tzOrig} -> ${tzRan}`);
  await back();

  // nondeterminism [rng]: the VEX document ids of both records, read from the files, marked - and +.
  const vexId = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'artifacts/vex.openvex.json'), 'utf8')) as { '@id': string })['@id'];
  const [idA, idB] = [vexId(rng.original_dir), vexId(rng.record_dir)];
  expect(idA).not.toBe(idB);
  f = await open(rng.replay_id, 'nondeterminism \\[rng\\]');
  expect(f).toContain('SF match  PF match  cause nondeterminism [rng]');
  expect(f).toContain('values that look random');
  expect(f).toContain('vex $["@id"]  looks random');
  expect(f).toMatch(new RegExp(`^ {2}- ${idA.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  expect(f).toMatch(new RegExp(`^ {2}\\+ ${idB.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  await back();

  keys('q');
  await waitFor(/gate: \w+/, 'back on the dashboard');
  keys('q');
  await waitFor(() => tmux('list-panes', '-t', 'w', '-F', '#{pane_current_command}').trim() === 'sleep', 'the workstation to exit');
  // Plain terminals: with --ascii every byte written is ASCII; with NO_COLOR not one colour code.
  const raw = readFileSync(log);
  expect([...raw].filter((b) => b > 0x7f)).toEqual([]);
  const text = raw.toString('latin1');
  expect(stripColour(text) === text, 'no SGR colour parameter in the raw output').toBe(true);
  expect(text).toContain('Evidence for scanner_drift');
}, 180_000);
