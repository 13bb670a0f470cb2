// The same records indexed into SQLite and into PostgreSQL: every reader's `--json` output is
// byte-identical (fidelity, gate, metrics, badge, ticket, the index summary), and so are retag/undo's
// effects. The PostgreSQL store is chosen by `--db postgres://…` or by STELLA_DB.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeRecord, realisticSpecs, writeRecord } from '../../bench/gen-records.js';
import { REPO, runStella } from '../helpers/cli.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const pg = requirePostgres();
const dir = tempDir('stella-same-output-');
const NOW = new Date('2026-01-31T12:00:00Z');
const root = path.join(dir, 'tree');
const sqlite = path.join(dir, 'index.db');
let url = '';

/** The example scan, and 120 more with varied labels over 60 days (the sampler's population). */
function writeScan(rootDir: string): void {
  const d = path.join(rootDir, 'scans', 'scan_example');
  mkdirSync(d, { recursive: true });
  copyFileSync(path.join(REPO, 'fixtures/manifests/example.manifest.json'), path.join(d, 'manifest.json'));
  const e = (p: string, schema: string, n: number) => ({ path: p, canonical_sha256: `sha256:${String(n).repeat(64)}`, raw_sha256: null, schema, bytes: 10 * n });
  const outputs = JSON.stringify({ sbom: e('artifacts/sbom.cdx.json', 'cyclonedx-1.6', 1), verdict: e('artifacts/verdict.json', 'stella-verdict-v1', 4) });
  writeFileSync(path.join(d, 'outputs.json'), outputs);
  const base = JSON.parse(readFileSync(path.join(REPO, 'fixtures/manifests/example.manifest.json'), 'utf8'));
  for (let i = 0; i < 120; i++) {
    const m = structuredClone(base);
    m.scan_id = `scan_s${String(i).padStart(3, '0')}`;
    m.created_at = new Date(Date.parse('2026-01-31T06:00:00Z') - (i % 60) * 86_400_000).toISOString().replace('.000Z', 'Z');
    m.labels = { ecosystem: ['npm', 'PyPI', 'Go'][i % 3], base_os: ['debian-12', 'none'][i % 2], regulated: i % 7 === 0, project: `p${i % 4}` };
    m.scanner.scanner_version = i % 5 === 0 ? '1.2.0' : '1.1.0';
    const sd = path.join(rootDir, 'scans', m.scan_id);
    mkdirSync(sd, { recursive: true });
    writeFileSync(path.join(sd, 'manifest.json'), JSON.stringify(m, null, 2));
    writeFileSync(path.join(sd, 'outputs.json'), outputs);
  }
}

/** Run one command against both stores; both exits and outputs must be equal. */
async function both(args: string[]): Promise<string> {
  const a = await runStella([...args, '--db', sqlite]);
  const b = await runStella([...args, '--db', url]);
  // Messages name the store they read: the path on one side, the URL on the other.
  expect(a.stderr.replaceAll(sqlite, 'DB'), args.join(' ')).toBe(b.stderr.replaceAll(url, 'DB'));
  // A ticket's repro command names the store it reads: the home of the index file, or the team store's URL.
  // A ticket's "tagged by" names each store's own retag: its wall-clock time and the batch id made from it.
  const home = (s: string) =>
    s
      .replace(/STELLA_HOME=\S+/g, 'STELLA_HOME=H')
      .replace(/ --db '[^']*'/g, '')
      .replace(/rt_[0-9a-f]{16}/g, 'rt_X')
      .replace(/("at": "|\*\*Tagged by:\*\* \S+ at )[0-9TZ:.-]+/g, '$1T');
  expect(home(b.stdout), args.join(' ')).toBe(home(a.stdout));
  expect(b.code, args.join(' ')).toBe(a.code);
  return a.stdout;
}

describe('SQLite and PostgreSQL give byte-identical output', () => {
  beforeAll(async () => {
    for (const s of realisticSpecs(500, NOW, 3)) writeRecord(path.join(root, 'replays', s.finishedAt.slice(0, 7)), makeRecord(s));
    writeScan(root);
    url = await pg.freshDatabase();
  }, 120_000);

  it('index, then every reader', async () => {
    const idx = JSON.parse(await both(['index', root, '--json']));
    expect(idx.replays.inserted).toBe(500);
    expect(idx.scans.inserted).toBe(121);
    expect(JSON.parse(await both(['index', root, '--json'])).replays.unchanged).toBe(500);
    const at = ['--now', '2026-01-31T12:00:00Z'];
    for (const w of ['30d', '90d']) {
      const f = JSON.parse(await both(['fidelity', '--window', w, ...at, '--json']));
      expect(f).toBeTruthy();
      for (const by of ['scanner', 'ecosystem', 'policy_set', 'base_os', 'feed']) await both(['fidelity', '--window', w, '--by', by, ...at, '--json']);
    }
    const gate = JSON.parse(await both(['gate', ...at, '--json']));
    expect(['green', 'warn', 'fail', 'pass']).toContain(gate.state ?? gate.status ?? 'pass');
    expect(await both(['metrics', ...at])).toMatch(/^# HELP /m);
    await both(['metrics', ...at, '--json']);
    await both(['badge', '--json', ...at]);
    await both(['badge', '--svg', ...at]);
    const failing = makeRecord(realisticSpecs(500, NOW, 3).find((s) => s.outcome === 'failed')!).replay.replay_id;
    const t = JSON.parse(await both(['ticket', failing, '--json']));
    expect(t.replay_id).toBe(failing);
    await both(['ticket', failing]);
    await both(['ticket', 'replay_nope']);
    const sample = ['sample', '--n', '30', '--by', 'ecosystem,base_os,regulated,scanner', '--window', '30d', '--seed', '42', '--canaries', 'scan_3f2a9c0d1e4b5a67', ...at];
    const table = await both(sample);
    expect(table).toMatch(/^sample of 30 from \d+ scans/);
    expect(table).toContain('ecosystem=npm,base_os=debian-12,regulated=false,scanner=1.1.0');
    const js = JSON.parse(await both([...sample, '--json']));
    expect(js.chosen.filter((c: { reason: string }) => c.reason === 'sampled')).toHaveLength(30);
    expect(js.chosen.find((c: { scan_id: string }) => c.scan_id === 'scan_3f2a9c0d1e4b5a67').reason).toBe('canary');
  });

  it('retag and undo do the same to both stores (and STELLA_DB picks PostgreSQL)', async () => {
    const args = ['retag', '--filter', 'cause:feed_drift eco:npm', '--tag', 'policy_drift', '--who', 'ana', '--json'];
    const a = JSON.parse((await runStella([...args, '--db', sqlite])).stdout);
    const b = JSON.parse((await runStella(args, { env: { STELLA_DB: url } })).stdout);
    expect(a.changed).toBeGreaterThan(0);
    expect({ ...b, batch_id: 'x' }).toEqual({ ...a, batch_id: 'x' });
    const failing = makeRecord(realisticSpecs(500, NOW, 3).find((s) => s.outcome === 'failed' && s.ecosystem === 'npm' && s.cause === 'feed_drift')!).replay.replay_id;
    expect(JSON.parse(await both(['ticket', failing, '--json'])).tag).toBe('policy_drift');
    await both(['fidelity', '--now', '2026-01-31T12:00:00Z', '--json']);
    const ua = JSON.parse((await runStella(['retag', '--undo', '--json', '--db', sqlite])).stdout);
    const ub = JSON.parse((await runStella(['retag', '--undo', '--json'], { env: { STELLA_DB: url } })).stdout);
    expect(ua).toEqual({ batch_id: a.batch_id, restored: a.changed });
    expect(ub).toEqual({ batch_id: b.batch_id, restored: b.changed });
    expect(JSON.parse(await both(['ticket', failing, '--json'])).tag).toBe('feed_drift');
    expect(await both(['retag', '--undo'])).toBe('nothing to undo\n');
  });

  it('a ticket for a replay the team store lacks names the URL with its password redacted', async () => {
    // The test cluster trusts local connections, so the password is carried but never checked.
    const withPw = url.replace(/^(postgres(?:ql)?:\/\/[^:/@?]*)@/, '$1:s3cret@');
    expect(withPw).toContain(':s3cret@');
    const r = await runStella(['ticket', 'replay_nope', '--db', withPw]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${withPw.replace(':s3cret@', ':***@')}: no replay 'replay_nope' in the index`);
    expect(r.stderr).not.toContain('s3cret');
  });

  it('a bad URL is one line naming it, password redacted, exit 2', async () => {
    const r = await runStella(['gate', '--db', 'postgres://ana:s3cret@127.0.0.1:1/nope']);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('postgres://ana:***@127.0.0.1:1/nope');
    expect(r.stderr).not.toContain('s3cret');
    expect(r.code).not.toBe(0);
  });
});
