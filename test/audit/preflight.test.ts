// The preflight before long work: a real package copy without its compiled binding, and a real engine.
import { cpSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { preflight, sqliteBindingProblem } from '../../src/app/preflight.js';
import { tempDir } from '../helpers/tmp.js';

const modules = path.resolve('node_modules');

describe('preflight', () => {
  const root = tempDir('stella-preflight-');
  const dir = (): string => root;
  const bareRoot = tempDir('stella-preflight-bare-');
  it('passes on this checkout (binding built, engine up)', async () => {
    expect(sqliteBindingProblem()).toBeNull();
    expect(await preflight(process.env, { needEngine: true })).toEqual({ fatal: [], notes: [] });
  });
  it('names the missing native binding and the command to run, in one line', async () => {
    // better-sqlite3 as an interrupted install leaves it: the package without build/.
    const nm = path.join(dir(), 'node_modules');
    mkdirSync(nm, { recursive: true });
    cpSync(path.join(modules, 'better-sqlite3'), path.join(nm, 'better-sqlite3'), { recursive: true, filter: (src) => !src.includes(`${path.sep}build`) && !src.includes(`${path.sep}deps`) && !src.includes(`${path.sep}src`) });
    for (const dep of ['bindings', 'file-uri-to-path']) cpSync(path.join(modules, dep), path.join(nm, dep), { recursive: true });
    expect(existsSync(path.join(nm, 'better-sqlite3/build'))).toBe(false);
    const from = pathToFileURL(path.join(dir(), 'probe.js')).href;
    const line = sqliteBindingProblem(from);
    expect(line).toMatch(/^better-sqlite3's native binding is missing .*: run `npm rebuild better-sqlite3` \(compiles from source, a few minutes\)$/);
    expect(line!.includes('\n')).toBe(false);
    const r = await preflight(process.env, { needEngine: true, sqliteFrom: from });
    expect(r.fatal).toEqual([line]);
    // Not installed at all (a directory with no node_modules above it that holds the package).
    const bare = pathToFileURL(path.join(bareRoot, 'probe.js')).href;
    mkdirSync(path.join(bareRoot, 'node_modules', 'better-sqlite3'), { recursive: true });
    expect(sqliteBindingProblem(bare)).toMatch(/^better-sqlite3 is not installed .*: run `npm install`$/);
  });
  it('an unreachable engine is fatal for benchmarks and a note for the demo build', async () => {
    const env = { ...process.env, DOCKER_HOST: `unix://${path.join(dir(), 'no-engine.sock')}` };
    const bench = await preflight(env, { needEngine: true });
    expect(bench.fatal).toHaveLength(1);
    expect(bench.fatal[0]).toMatch(/^the Docker engine is not reachable: .*dockerd/);
    const demo = await preflight(env, { needEngine: false });
    expect(demo.fatal).toEqual([]);
    expect(demo.notes[0]).toMatch(/^the Docker engine is not reachable: .*\(re-runs with r and `stella repro` need it\)$/);
  });
});
