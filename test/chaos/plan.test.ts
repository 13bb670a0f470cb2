// Chaos planning and reporting (pure), and the launcher that applies a run's settings in the scanner
// process, exercised with a real node child process.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildChaosReport,
  chaosTimeZone,
  executionOrder,
  jsonDifferences,
  parseVariations,
  planChaos,
  renderChaosReport,
  VARIATIONS,
  type RunOutputs,
} from '../../src/core/chaos/index.js';
import { StellaError } from '../../src/core/errors.js';
import type { ScanManifest } from '../../src/core/formats.js';
import { LAUNCHER_SOURCE } from '../../src/app/chaos.js';
import { REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const manifest = (): ScanManifest => JSON.parse(readFileSync(path.join(REPO, 'fixtures/manifests/example.manifest.json'), 'utf8')) as ScanManifest;
const D = (c: string) => `sha256:${c.repeat(64)}` as const;

function outputs(over: Partial<Record<'sbom' | 'findings' | 'vex' | 'verdict', [string, unknown]>> = {}): RunOutputs {
  const one = (n: 'sbom' | 'findings' | 'vex' | 'verdict') => ({ canonical_sha256: D(over[n]?.[0] ?? 'a'), doc: over[n]?.[1] ?? { same: true } });
  return { artifacts: { sbom: one('sbom'), findings: one('findings'), vex: one('vex'), verdict: one('verdict') } };
}

describe('parseVariations', () => {
  it('defaults to every variation, keeps the canonical order and drops repeats', () => {
    expect(parseVariations(undefined)).toEqual([...VARIATIONS]);
    expect(parseVariations('umask,tz,tz, cpus')).toEqual(['tz', 'cpus', 'umask']);
  });
  it('refuses unknown names and empty lists as usage errors', () => {
    expect(() => parseVariations('tz,moon')).toThrow(/unknown variation 'moon'/);
    expect(() => parseVariations(' , ')).toThrow(StellaError);
  });
});

describe('planChaos', () => {
  it('varies one thing per run, then all together; the manifest values are the baseline', () => {
    const m = manifest();
    const plan = planChaos(m, parseVariations(undefined));
    expect(plan.baseline.settings).toEqual({ tz: 'UTC', locale: 'C', cpus: 2, extra_env: {}, reverse_readdir: false, umask: null, clock: null });
    expect(plan.runs.map((r) => r.name)).toEqual(['tz', 'locale', 'cpus', 'env', 'file-order', 'umask', 'clock', 'run-order', 'combined']);
    const byName = Object.fromEntries(plan.runs.map((r) => [r.name, r.settings]));
    expect(byName.tz).toEqual({ ...plan.baseline.settings, tz: 'Etc/GMT-14' });
    expect(byName.cpus).toEqual({ ...plan.baseline.settings, cpus: 3 });
    expect(byName['run-order']).toEqual(plan.baseline.settings);
    expect(byName.combined).toMatchObject({ tz: 'Etc/GMT-14', locale: 'tr_TR.UTF-8', cpus: 3, reverse_readdir: true, umask: '0077', clock: '2025-12-15T17:28:30.000Z' });
    // The repeat runs last, after everything else has run.
    expect(executionOrder(plan).map((r) => r.name).at(-1)).toBe('run-order');
    expect(executionOrder(plan)[0].name).toBe('baseline');
  });
  it('picks a zone whose local date differs from the UTC date at the scan clock', () => {
    for (const clock of ['2025-12-12T00:30:00Z', '2025-12-12T09:59:59Z', '2025-12-12T10:00:00Z', '2025-12-12T23:59:00Z']) {
      const m = manifest();
      m.environment.clock_value = clock;
      const zone = chaosTimeZone(m);
      const local = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(clock));
      expect(local, `${clock} in ${zone}`).not.toBe(clock.slice(0, 10));
    }
  });
  it('plans no combined run for a single variation', () => {
    expect(planChaos(manifest(), ['cpus']).runs.map((r) => r.name)).toEqual(['cpus']);
  });
});

describe('buildChaosReport', () => {
  const m = manifest();
  const plan = planChaos(m, ['tz', 'cpus', 'run-order']);
  const run = (name: string) => plan.runs.find((r) => r.name === name)!;
  const ok = (o: RunOutputs) => ({ kind: 'ok' as const, outputs: o });

  it('names the single variation that breaks BF, with the JSON paths that changed', () => {
    const broken = outputs({ findings: ['b', { findings: [{ id: 'x' }, { id: 'y' }] }] });
    const base = outputs({ findings: ['a', { findings: [{ id: 'y' }, { id: 'x' }] }] });
    const r = buildChaosReport({
      scan_id: m.scan_id,
      manifest_sha256: D('f'),
      baseline: { run: plan.baseline, outcome: ok(base), original: null },
      runs: [
        { run: run('tz'), outcome: ok(base) },
        { run: run('cpus'), outcome: ok(broken) },
        { run: run('run-order'), outcome: ok(base) },
        { run: run('combined'), outcome: ok(broken) },
      ],
    });
    expect(r.verdict).toBe('unstable');
    expect(r.exposed_by).toEqual(['cpus']);
    const cpus = r.runs.find((x) => x.name === 'cpus')!;
    expect(cpus.differing_artifacts).toEqual(['findings']);
    expect(cpus.differences.map((d) => d.path)).toEqual(['$.findings[0].id', '$.findings[1].id']);
    expect(renderChaosReport(r)).toMatch(/UNSTABLE — exposed by cpus/);
    expect(r.explanation).toMatch(/concurrency/);
  });
  it('blames run-order alone when the scan changes with nothing changed', () => {
    const other = outputs({ vex: ['c', { id: 'urn:uuid:2' }] });
    const r = buildChaosReport({
      scan_id: m.scan_id,
      manifest_sha256: D('f'),
      baseline: { run: plan.baseline, outcome: ok(outputs({ vex: ['a', { id: 'urn:uuid:1' }] })), original: { sbom: D('a'), findings: D('a'), vex: D('d'), verdict: D('a') } },
      runs: ['tz', 'cpus', 'run-order', 'combined'].map((n) => ({ run: run(n), outcome: ok(other) })),
    });
    expect(r.exposed_by).toEqual(['run-order']);
    expect(r.baseline.bf_match_original).toBe(false);
  });
  it('is stable when nothing differs, and an error when a run could not execute', () => {
    const base = outputs();
    const stable = buildChaosReport({
      scan_id: m.scan_id,
      manifest_sha256: D('f'),
      baseline: { run: plan.baseline, outcome: ok(base), original: { sbom: D('a'), findings: D('a'), vex: D('a'), verdict: D('a') } },
      runs: plan.runs.map((p) => ({ run: p, outcome: ok(base) })),
    });
    expect(stable.verdict).toBe('stable');
    expect(stable.baseline.bf_match_original).toBe(true);
    const failed = buildChaosReport({
      scan_id: m.scan_id,
      manifest_sha256: D('f'),
      baseline: { run: plan.baseline, outcome: { kind: 'error', error: 'scanner exited with 1' }, original: null },
      runs: plan.runs.map((p) => ({ run: p, outcome: ok(base) })),
    });
    expect(failed.verdict).toBe('error');
    expect(failed.explanation).toMatch(/baseline run failed: scanner exited with 1/);
  });
});

describe('jsonDifferences', () => {
  it('lists leaf changes with paths in key order and caps the list', () => {
    const d = jsonDifferences({ b: 1, a: [1, 2, 3], 'odd key': 'x' }, { b: 2, a: [1, 2], 'odd key': 'y', c: true }, 3);
    expect(d.total).toBe(4);
    expect(d.list.map((x) => x.path)).toEqual(['$.a[2]', '$.b', '$.c']);
  });
});

describe('launcher', () => {
  it('applies env, umask, the visible CPU count and reversed listings, then runs the entry with its args', () => {
    const dir = tempDir();
    const launcher = path.join(dir, 'launch.mjs');
    writeFileSync(launcher, LAUNCHER_SOURCE);
    const listing = path.join(dir, 'listing');
    mkdirSync(listing);
    for (const f of ['a', 'b', 'c']) writeFileSync(path.join(listing, f), f);
    // A probe standing in for the scanner entry: it reports what it sees through the APIs a scanner uses.
    const probe = path.join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      `import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
const umask = process.umask();
console.log(JSON.stringify({ argv: process.argv.slice(2), user: process.env.USER, umask: umask.toString(8), cpus: os.availableParallelism(), cpuList: os.cpus().length,
  sync: readdirSync(process.argv[2]), async: await readdir(process.argv[2]) }));`,
    );
    const settings = { tz: 'UTC', locale: 'C', cpus: 5, extra_env: { USER: 'chaos' }, reverse_readdir: true, umask: '0077', clock: null };
    const encoded = Buffer.from(JSON.stringify(settings)).toString('base64');
    const r = spawnSync(process.execPath, [launcher, encoded, probe, listing, '--flag'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ argv: [listing, '--flag'], user: 'chaos', umask: '77', cpus: 5, cpuList: 5, sync: ['c', 'b', 'a'], async: ['c', 'b', 'a'] });
    const plain = spawnSync(process.execPath, [launcher, Buffer.from(JSON.stringify({ ...settings, cpus: 1, extra_env: {}, reverse_readdir: false, umask: null })).toString('base64'), probe, listing], {
      encoding: 'utf8',
    });
    expect(JSON.parse(plain.stdout)).toMatchObject({ cpus: 1, sync: ['a', 'b', 'c'] });
  });
});
