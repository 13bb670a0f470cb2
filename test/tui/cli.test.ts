// `stella tui` bad input: one line naming the file, exit 2, nothing written.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';

test('an index that is not a SQLite database: one line naming the file, exit 2, file untouched', async () => {
  const home = tempDir();
  const db = path.join(home, 'index.db');
  writeFileSync(db, '{"not": "sqlite"}\n');
  const r = await runStella(['tui'], { env: { STELLA_HOME: home } });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(db);
  expect(r.stderr).toMatch(/the index is damaged \(file is not a database\); move it aside and rebuild it with `stella index DIR…`/);
  expect(listFiles(home)).toEqual(['index.db']);
});

test('no terminal: says which commands to script instead, exit 2, no index created', async () => {
  const home = tempDir();
  const r = await runStella(['tui'], { env: { STELLA_HOME: home } });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/needs a terminal/);
  expect(listFiles(home)).toEqual([]);
});

test('--open without an id and unknown flags are usage errors', async () => {
  const home = tempDir();
  const a = await runStella(['tui', '--open', ''], { env: { STELLA_HOME: home } });
  expect(a.code).toBe(2);
  expect(a.stderr).toMatch(/--open REPLAY_ID: expected a replay id/);
  const b = await runStella(['tui', '--colour'], { env: { STELLA_HOME: home } });
  expect(b.code).toBe(2);
  expect(b.stderr.trim().split('\n')).toHaveLength(1);
});
