// SPEC §8 "every reader of a record refuses artifact paths that are absolute, escape the record or are
// links" and §7 "one line naming the file and JSON path, exit 2, nothing half-written", through the
// real CLI on a real record (the README tour: feed snapshot, policy bundle, scan, local replay):
// replay, diff, index and manifest refuse the same links and paths; index refuses replay.json's bad
// nested values; a damaged index.db is one line naming it, never an internal error.
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runStella, THIRD_PARTY, REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const root = tempDir('stella-record-readers-');
const env = { STELLA_HOME: path.join(root, 'home') };
let scanDir = '';
let replayDir = '';
let feedDigest = '';

async function ok(args: string[]): Promise<string> {
  const r = await runStella(args, { env });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A copy of the scan record under `name`, edited. */
function copyOfScan(name: string, edit: (dir: string) => void = () => undefined): string {
  const dir = path.join(root, name);
  cpSync(scanDir, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** Replace `rel` in `dir` by a symbolic link to the same bytes beside it. */
function linkInPlace(dir: string, rel: string): string {
  const file = path.join(dir, rel);
  renameSync(file, `${file}.real`);
  symlinkSync(`${file}.real`, file);
  return file;
}

const oneLine = (stderr: string): string[] => stderr.trim().split('\n');

beforeAll(async () => {
  await ok(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv'), '--out', path.join(root, 'feed.tar.zst')]);
  await ok(['policy', 'bundle', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out', path.join(root, 'policy.json')]);
  const lock = path.join(THIRD_PARTY, 'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock');
  await runStella(['scan', lock, '--feed', path.join(root, 'feed.tar.zst'), '--policy', path.join(root, 'policy.json'), '--out-dir', path.join(root, 'scans'), '--clock', '2025-12-12T10:15:30Z'], { env });
  scanDir = path.join(root, 'scans', readdirSync(path.join(root, 'scans'))[0]);
  feedDigest = (JSON.parse(readFileSync(path.join(scanDir, 'manifest.json'), 'utf8')) as { feeds: { vuln_feed_bundle_digest: string } }).feeds.vuln_feed_bundle_digest;
  const out = await ok(['replay', '--from', path.join(scanDir, 'manifest.json'), '--out-dir', path.join(root, 'replays'), '--executor', 'local', '--json']);
  const rec = JSON.parse(out) as { replay_id: string; status: string };
  expect(rec.status).toBe('passed');
  replayDir = path.join(root, 'replays', rec.replay_id);
}, 120_000);

describe('stella replay reads the original record by the record readers’ rule', () => {
  for (const rel of ['manifest.json', 'outputs.json', 'artifacts/findings.json', 'manifest.sig']) {
    it(`a symlinked ${rel}: exit 2, one line naming it, nothing written (pinned and --what-if)`, { timeout: 60_000 }, async () => {
      const dir = copyOfScan(`link-${rel.replace('/', '-')}`, (d) => writeFileSync(path.join(d, 'manifest.sig'), ''));
      const file = linkInPlace(dir, rel);
      for (const extra of [[], ['--what-if', `feed=${feedDigest}`]]) {
        const out = path.join(dir, 'out');
        const r = await runStella(['replay', '--from', path.join(dir, 'manifest.json'), '--out-dir', out, '--executor', 'local', ...extra], { env });
        expect(r.code, r.stdout).toBe(2);
        expect(oneLine(r.stderr)).toEqual([`stella replay: ${file}: is a symbolic link; refusing to follow it`]);
        expect(existsSync(out)).toBe(false);
      }
    });
  }
});

describe('an outputs.json naming an absolute or escaping artifact path is refused by every reader', () => {
  for (const [bad, why] of [['/etc/passwd', 'is absolute'], ['../x', "escapes the record (a '..' segment)"]]) {
    it(`findings.path = ${bad}: diff, replay and index exit 2 with $.findings.path`, { timeout: 60_000 }, async () => {
      const parent = path.join(root, `paths-${bad.length}`);
      mkdirSync(parent);
      const dir = path.join(parent, 'rec');
      cpSync(scanDir, dir, { recursive: true });
      const f = path.join(dir, 'outputs.json');
      const o = JSON.parse(readFileSync(f, 'utf8')) as { findings: { path: string } };
      o.findings.path = bad;
      writeFileSync(f, JSON.stringify(o, null, 2));
      const line = `${f}: $.findings.path: artifact path ${JSON.stringify(bad)} ${why}; a record names its files relative to its own directory`;
      const diff = await runStella(['diff', '--a', scanDir, '--b', dir], { env });
      expect(diff.code, diff.stdout).toBe(2);
      expect(oneLine(diff.stderr)).toEqual([`stella diff: ${line}`]);
      const out = path.join(parent, 'out');
      const rep = await runStella(['replay', '--from', path.join(dir, 'manifest.json'), '--out-dir', out, '--executor', 'local'], { env });
      expect(rep.code, rep.stdout).toBe(2);
      expect(oneLine(rep.stderr)).toEqual([`stella replay: ${line}`]);
      expect(existsSync(out)).toBe(false);
      const ix = await runStella(['index', parent, '--db', path.join(parent, 'i.db')], { env });
      expect(ix.code).toBe(2);
      expect(oneLine(ix.stderr)).toEqual([`stella index: ${line}`]);
    });
  }
});

describe('stella index and stella manifest refuse links', () => {
  it('a scan record whose artifact is a symbolic link is skipped, naming the artifact', { timeout: 60_000 }, async () => {
    const parent = path.join(root, 'index-link-artifact');
    mkdirSync(parent);
    const dir = path.join(parent, 'rec');
    cpSync(scanDir, dir, { recursive: true });
    const file = linkInPlace(dir, 'artifacts/findings.json');
    const r = await runStella(['index', parent, '--db', path.join(parent, 'i.db')], { env });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([`stella index: ${file}: is a symbolic link; refusing to follow it`]);
    expect(r.stdout).toContain('scans 0 new');
    expect(r.stdout).toContain('1 skipped');
  });

  it('a link to a record directory in the walk is reported as not followed, exit 2', { timeout: 60_000 }, async () => {
    const parent = path.join(root, 'index-link-dir');
    mkdirSync(parent);
    symlinkSync(replayDir, path.join(parent, 'rpl_x'));
    const r = await runStella(['index', parent, '--db', path.join(parent, 'i.db')], { env });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([`stella index: ${path.join(parent, 'rpl_x')}: is a symbolic link to a directory; not followed (index the directory it points to)`]);
    expect(r.stdout).toContain('indexed 0 records');
    expect(r.stdout).toContain('1 skipped');
  });

  it('stella manifest validate and hash refuse a symlinked manifest, as diff and index do', { timeout: 60_000 }, async () => {
    const dir = copyOfScan('manifest-link');
    const file = linkInPlace(dir, 'manifest.json');
    for (const verb of ['validate', 'hash']) {
      const r = await runStella(['manifest', verb, file], { env });
      expect(r.code, r.stdout).toBe(2);
      expect(oneLine(r.stderr)).toEqual([`stella manifest: ${file}: is a symbolic link; refusing to follow it`]);
      expect(r.stdout).toBe('');
    }
    expect((await runStella(['manifest', 'validate', path.join(scanDir, 'manifest.json')], { env })).code).toBe(0);
  });
});

describe('stella index refuses replay.json with bad nested values', () => {
  const cases: Array<[string, (v: Record<string, any>) => void, string]> = [
    ['$.executor.cpus', (v) => (v.executor.cpus = 'x'), 'must be a positive integer, got "x"'],
    ['$.diff_summary.counts.packages_added', (v) => (v.diff_summary = { counts: { packages_added: 'x' } }), 'must be a non-negative integer, got "x"'],
    ['$.artifacts.sbom.canonical_sha256', (v) => (v.artifacts.sbom.canonical_sha256 = 'sha256:zz'), 'must be sha256: followed by 64 lowercase hex digits, got "sha256:zz"'],
  ];
  for (const [at, edit, why] of cases) {
    it(`${at}: skipped with the file and JSON path, nothing indexed`, { timeout: 60_000 }, async () => {
      const parent = path.join(root, `nested-${at.replace(/[$.]/g, '')}`);
      mkdirSync(parent);
      const dir = path.join(parent, 'rpl');
      cpSync(replayDir, dir, { recursive: true });
      const f = path.join(dir, 'replay.json');
      const v = JSON.parse(readFileSync(f, 'utf8')) as Record<string, any>;
      edit(v);
      writeFileSync(f, JSON.stringify(v, null, 2));
      const r = await runStella(['index', parent, '--db', path.join(parent, 'i.db')], { env });
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toEqual([`stella index: ${f}: ${at}: ${why}`]);
      expect(r.stdout).toContain('replays 0 new');
    });
  }
});

describe('a damaged index is one line naming it, exit 2', () => {
  let good = '';
  let replayId = '';
  beforeAll(async () => {
    good = path.join(root, 'good.db');
    await ok(['index', path.join(root, 'scans'), path.join(root, 'replays'), '--db', good]);
    replayId = path.basename(replayDir);
  }, 60_000);

  const commands = (): string[][] => [['gate'], ['ticket', replayId], ['fidelity'], ['metrics'], ['badge', '--json']];

  it('an index.db truncated to 8 KB: every reader says the index is damaged, naming it', { timeout: 60_000 }, async () => {
    const db = path.join(root, 'truncated', 'index.db');
    mkdirSync(path.dirname(db));
    writeFileSync(db, readFileSync(good).subarray(0, 8192));
    for (const cmd of commands()) {
      const r = await runStella([...cmd, '--db', db], { env });
      expect(r.code, cmd[0]).toBe(2);
      expect(oneLine(r.stderr)).toEqual([`stella ${cmd[0]}: ${db}: the index is damaged (database disk image is malformed); move it aside and rebuild it with \`stella index DIR…\``]);
    }
  });

  it('a file that is not a database', { timeout: 60_000 }, async () => {
    const db = path.join(root, 'garbage.db');
    writeFileSync(db, 'not a database, just some text that is long enough to have a header\n'.repeat(100));
    const r = await runStella(['gate', '--db', db], { env });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([`stella gate: ${db}: the index is damaged (file is not a database); move it aside and rebuild it with \`stella index DIR…\``]);
  });

  it('a stored diff_summary_json that does not parse: ticket names the index and the replay', { timeout: 60_000 }, async () => {
    const db = path.join(root, 'row.db');
    writeFileSync(db, readFileSync(good));
    const h = new Database(db);
    h.prepare("UPDATE replay_runs SET diff_summary_json = '{trunc' WHERE replay_id = ?").run(replayId);
    h.close();
    const r = await runStella(['ticket', replayId, '--db', db], { env });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      `stella ticket: ${db}: the index is damaged (replay ${replayId}: diff_summary_json does not parse: Expected property name or '}' in JSON at position 1); move it aside and rebuild it with \`stella index DIR…\``,
    ]);
  });
});
