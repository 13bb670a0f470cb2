// `stella canary` through Docker: the golden set replays with BF = 1.0 and a green gate on the image built
// from this checkout; a candidate image whose matcher changed gives scanner_drift and a failing gate.
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../helpers/docker.js';
import { REPO, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import type { CanaryReport } from '../../src/app/canary.js';

const home = tempDir('stella-canary-');
const env = { STELLA_HOME: home };
let current = '';

/** Build the scanner image from a copy of this checkout's dist (the CLI builds from its own root). */
function buildImageFrom(root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/bin/stella.js'), 'image', 'build'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n')[0]) : reject(new Error(`image build exited ${code}: ${err}`))));
  });
}

beforeAll(async () => {
  await requireDocker();
  current = await buildImageFrom(REPO);
  expect(current).toMatch(/^sha256:[0-9a-f]{64}$/);
}, 600_000);

describe('stella canary (docker)', () => {
  it('replays every canary with BF = 1.0 on the image of this checkout, indexes them, gate green', async () => {
    const junit = path.join(home, 'canary.junit.xml');
    const r = await runStella(['canary', '--scanner', current, '--json', '--junit', junit], { env, timeoutMs: 900_000 });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as CanaryReport;
    expect(report.canaries.length).toBeGreaterThanOrEqual(12);
    expect(report.canaries.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(report.bf).toBe(1);
    expect(report.gate.state).toBe('green');
    expect(r.code).toBe(0);
    expect(readFileSync(junit, 'utf8')).toContain('<testsuites name="stella gate"');
    expect(existsSync(path.join(home, 'index.db'))).toBe(true);
    // The index holds the canary replays: `stella fidelity` sees them.
    const fid = await runStella(['fidelity', '--json', '--now', new Date().toISOString()], { env });
    expect(fid.code).toBe(0);
    expect(fid.stdout).toContain(String(report.canaries.length));
  }, 900_000);

  it('a candidate whose matcher changed (fixed versions treated as still affected) gives scanner_drift and exit 1', async () => {
    const cand = path.join(tempDir('stella-candidate-'), 'repo');
    mkdirSync(cand);
    cpSync(path.join(REPO, 'dist'), path.join(cand, 'dist'), { recursive: true });
    cpSync(path.join(REPO, 'package.json'), path.join(cand, 'package.json'));
    symlinkSync(path.join(REPO, 'node_modules'), path.join(cand, 'node_modules'));
    const match = path.join(cand, 'dist/src/scanner/match.js');
    const src = readFileSync(match, 'utf8');
    const patched = src.replace('if (cmp(version, e.fixed) >= 0)', 'if (cmp(version, e.fixed) > 0)');
    expect(patched).not.toBe(src);
    writeFileSync(match, patched);
    const candidate = await buildImageFrom(cand);
    expect(candidate).not.toBe(current);

    const r = await runStella(['canary', '--scanner', candidate, '--json'], { env, timeoutMs: 900_000 });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as CanaryReport;
    const drifted = report.canaries.filter((c) => c.status === 'failed');
    expect(drifted.length).toBeGreaterThan(0);
    for (const c of drifted) {
      expect(c.mismatch_reason).toBe('scanner_drift');
      expect(c.differing_artifacts).toContain('findings');
    }
    expect(report.gate.state).toBe('fail');
    expect(report.gate.reasons[0]).toMatch(/^canary_bf_1\.0: .* failed \(scanner_drift\)$/);
    expect(r.code).toBe(1);
    // The classified replay record is on disk for the workstation and `stella explain`.
    const rec = JSON.parse(readFileSync(path.join(drifted[0].dir!, 'replay.json'), 'utf8'));
    expect(rec.mismatch_reason).toBe('scanner_drift');
    expect(rec.mode).toBe(`what-if:scanner=${candidate}`);

    // The release pipeline's one command: `stella gate --canary` gates on the same run.
    const g = await runStella(['gate', '--canary', '--scanner', candidate, '--json'], { env, timeoutMs: 900_000 });
    expect(g.code).toBe(1);
    expect((JSON.parse(g.stdout) as CanaryReport).gate.state).toBe('fail');
    const usage = await runStella(['gate', '--canary'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--canary needs --scanner IMAGE_ID/);
  }, 900_000);
});
