// B8 of issue 14: temp directories live under one per-process root ($TMPDIR/stella-<pid>-…); a
// SIGKILLed stella leaves its root behind, and the next stella to start removes it (as it reaps orphan
// containers), while roots of live processes are kept.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { REPO, runStella } from '../helpers/cli.js';
import { writeManifest } from '../docker/support.js';

const base = tempDir('stella-temp-roots-');
const tmp = path.join(base, 'tmp');
mkdirSync(tmp);
const home = path.join(base, 'home');

/** A real process that makes temp dirs the way stella does, then is SIGKILLed: returns its root. */
async function killedMidRun(): Promise<string> {
  const mod = pathToFileURL(path.join(REPO, 'dist/src/adapters/temp.js')).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const t = await import(${JSON.stringify(mod)}); t.makeTempDir('stella-run-'); t.makeTempDir('stella-local-'); console.log('ready'); setInterval(() => {}, 1000);`], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  const roots = readdirSync(tmp).filter((n) => n.startsWith(`stella-${child.pid}-`));
  expect(roots).toHaveLength(1);
  expect(readdirSync(path.join(tmp, roots[0]!)).map((n) => n.replace(/[A-Za-z0-9]{6}$/, '')).sort()).toEqual(['stella-local-', 'stella-run-']);
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await closed;
  return path.join(tmp, roots[0]!);
}

describe('B8: per-process temp roots, reaped when their process is gone', () => {
  it('each SIGKILLed run leaves a root; the next stella removes it and leaves nothing of its own', { timeout: 60_000 }, async () => {
    const first = await killedMidRun();
    expect(existsSync(first)).toBe(true);
    // The second process's first temp dir already reaps the first one's root.
    const second = await killedMidRun();
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(true);
    const dead = [first, second];
    // A live process's root is not touched.
    const liveRoot = path.join(tmp, `stella-${process.pid}-0123abcd`);
    mkdirSync(liveRoot);
    const { file } = writeManifest(home, path.join(home, 'scans/a'), { imageId: 'sha256:' + '3'.repeat(64) });
    const r = await runStella(['replay', '--from', file, '--out-dir', path.join(base, 'out'), '--executor', 'local', '--json'], { env: { STELLA_HOME: home, TMPDIR: tmp } });
    expect([0, 1, 2]).toContain(r.code);
    for (const d of dead) expect(existsSync(d)).toBe(false);
    expect(existsSync(liveRoot)).toBe(true);
    // The replay's own root went away when it exited.
    expect(readdirSync(tmp)).toEqual([path.basename(liveRoot)]);
  });

  it('run dirs staged in the store (what the engine bind-mounts): a killed process\'s root is reaped by the next one on this host, another host\'s is kept', { timeout: 60_000 }, async () => {
    const store = path.join(base, 'store');
    const mod = pathToFileURL(path.join(REPO, 'dist/src/adapters/temp.js')).href;
    const stage = async (): Promise<string> => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', `const t = await import(${JSON.stringify(mod)}); console.log(t.makeStoreTempDir(${JSON.stringify(store)}, 'stella-run-')); setInterval(() => {}, 1000);`], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const dir = await new Promise<string>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(b.toString('utf8').trim())));
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGKILL');
      await closed;
      return dir;
    };
    const first = await stage();
    const root = path.dirname(first);
    expect(path.dirname(root)).toBe(path.join(store, 'tmp'));
    expect(path.basename(root)).toMatch(new RegExp(`^stella-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-\\d+-[0-9a-f]{8}$`));
    expect(existsSync(first)).toBe(true);
    // A dead pid on another host sharing the store means nothing here.
    const otherHost = path.join(store, 'tmp', 'stella-another-host-1-0123abcd');
    mkdirSync(otherHost);
    const second = await stage();
    expect(existsSync(root)).toBe(false);
    expect(existsSync(second)).toBe(true);
    expect(existsSync(otherHost)).toBe(true);
  });
});
