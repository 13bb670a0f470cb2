// The committed golden canaries reproduce in process (no Docker), and bad canary input is refused with
// one line naming the file and JSON path, exit 2, nothing written.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';

const CANARIES = path.join(REPO, 'fixtures/canaries');

describe('golden canaries', () => {
  it('a fresh in-process scan of every committed manifest reproduces its committed canonical hashes', async () => {
    const home = tempDir();
    const r = await runStella(['canary', '--verify', '--json'], { env: { STELLA_HOME: home }, timeoutMs: 300_000 });
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout) as Array<{ id: string; reproduced: boolean }>;
    expect(rows.length).toBeGreaterThanOrEqual(12);
    expect(rows.filter((x) => !x.reproduced)).toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  it('commits only manifest.json and outputs.json per canary, and keeps them small', () => {
    const files = listFiles(CANARIES).filter((f) => f !== 'canaries.json');
    expect(new Set(files.map((f) => path.basename(f)))).toEqual(new Set(['manifest.json', 'outputs.json']));
    for (const f of files) expect(readFileSync(path.join(CANARIES, f)).length).toBeLessThan(8_192);
  });

  function copySet(): string {
    const dir = path.join(tempDir(), 'canaries');
    cpSync(CANARIES, dir, { recursive: true });
    return dir;
  }

  async function refused(args: string[], home: string): Promise<string> {
    const r = await runStella(args, { env: { STELLA_HOME: home } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    return lines[0];
  }

  it('refuses a truncated canaries.json, naming the file', async () => {
    const dir = copySet();
    const file = path.join(dir, 'canaries.json');
    writeFileSync(file, readFileSync(file).subarray(0, 200));
    const line = await refused(['canary', '--verify', '--canaries', dir], tempDir());
    expect(line).toContain(file);
  });

  it('refuses a bad canary entry with its JSON path', async () => {
    const dir = copySet();
    const file = path.join(dir, 'canaries.json');
    const v = JSON.parse(readFileSync(file, 'utf8'));
    v.canaries[2].input = '../../../etc/passwd';
    writeFileSync(file, JSON.stringify(v));
    const line = await refused(['canary', '--verify', '--canaries', dir], tempDir());
    expect(line).toContain(`${file}: $.canaries[2].input`);
  });

  it('refuses a golden without an expected hash, and a golden whose pinned input changed', async () => {
    const dir = copySet();
    const outputs = path.join(dir, 'crates-bat/outputs.json');
    const o = JSON.parse(readFileSync(outputs, 'utf8'));
    delete o.vex.canonical_sha256;
    writeFileSync(outputs, JSON.stringify(o));
    expect(await refused(['canary', '--verify', '--canaries', dir], tempDir())).toContain(`${outputs}: $.vex.canonical_sha256`);

    const dir2 = copySet();
    const manifest = path.join(dir2, 'crates-ripgrep/manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    m.input.digest = 'sha256:' + '0'.repeat(64);
    writeFileSync(manifest, JSON.stringify(m));
    expect(await refused(['canary', '--verify', '--canaries', dir2], tempDir())).toContain(`${manifest}: $.input.digest`);
  });

  it('reports a committed golden this checkout no longer reproduces (stale goldens), exit 1', async () => {
    const dir = copySet();
    const outputs = path.join(dir, 'crates-bat/outputs.json');
    const o = JSON.parse(readFileSync(outputs, 'utf8'));
    o.findings.canonical_sha256 = 'sha256:' + 'f'.repeat(64);
    writeFileSync(outputs, JSON.stringify(o));
    const home = tempDir();
    const r = await runStella(['canary', '--verify', '--canaries', dir, '--json'], { env: { STELLA_HOME: home }, timeoutMs: 300_000 });
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout) as Array<{ id: string; reproduced: boolean; differing_artifacts: string[] }>;
    expect(rows.filter((x) => !x.reproduced)).toEqual([{ id: 'crates-bat', reproduced: false, differing_artifacts: ['findings'] }]);
  }, 300_000);

  it('usage errors: not an image id, or no mode', async () => {
    const home = tempDir();
    expect(await refused(['canary', '--scanner', 'latest'], home)).toMatch(/--scanner latest: expected an image ID/);
    expect(await refused(['canary'], home)).toMatch(/exactly one of --scanner/);
    expect(listFiles(home)).toEqual([]);
  });
});
