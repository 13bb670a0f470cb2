// Prometheus exposition (checked by promtool), the loopback /metrics server over real HTTP, the badge,
// the ticket, and `stella fidelity`.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../store/sqlite-store.js';
import { makeRecord, realisticSpecs, replayIn, writeRecord } from '../../bench/gen-records.js';
import { tempDir } from '../helpers/tmp.js';
import { STELLA_BIN, runStella } from '../helpers/cli.js';
import { escapeLabel, renderPrometheus } from '../../src/core/metrics/prometheus.js';

const NOW = new Date('2026-01-31T12:00:00Z');
const NOW_ARG = ['--now', '2026-01-31T12:00:00Z'];
const dir = tempDir('stella-metrics-');
const db = path.join(dir, 'index.db');
const records = path.join(dir, 'records');

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool missing (apt-get install -y prometheus): ${r.error.message}`);
  return { status: r.status, out: r.stdout + r.stderr };
}

function get(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), type: String(res.headers['content-type']) }));
      })
      .on('error', reject);
  });
}

let failedId = '';
let mismatched: Array<{ id: string; reason: string }> = [];

/** `name{labels}` → value of every sample, and each sample's family type (`# TYPE`; a summary's _sum/_count). */
function scrapeOf(text: string): { values: Map<string, number>; typeOf: (series: string) => string | undefined } {
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]] as const));
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  const typeOf = (series: string) => {
    const name = series.replace(/\{.*$/, '');
    const own = types.get(name);
    if (own) return own;
    // A summary's _sum and _count only ever grow.
    return types.get(name.replace(/_(sum|count)$/, '')) === 'summary' ? 'counter' : undefined;
  };
  return { values, typeOf };
}
beforeAll(async () => {
  const specs = realisticSpecs(600, NOW, 3);
  // Labels that need escaping in the exposition format.
  specs[0] = { ...specs[0], ecosystem: 'we"ird\\eco', finishedAt: '2026-01-30T10:00:00Z' };
  for (const s of specs) writeRecord(records, makeRecord(s));
  const failed = specs.find((s) => s.outcome === 'failed')!;
  failedId = makeRecord(failed).replay.replay_id;
  mismatched = specs.filter((s) => s.outcome === 'failed').map((s) => makeRecord(s).replay).map((x) => ({ id: x.replay_id, reason: x.mismatch_reason as string }));
  const r = await runStella(['index', records, '--db', db]);
  expect(r.code).toBe(0);
});

describe('stella metrics', () => {
  it('promtool check metrics accepts the output; the §5 metric names and labels are there', async () => {
    const r = await runStella(['metrics', '--db', db, ...NOW_ARG]);
    expect(r.code).toBe(0);
    const check = promtool(r.stdout);
    expect(check.out).toBe('');
    expect(check.status).toBe(0);
    for (const level of ['bf', 'sf', 'pf']) {
      expect(r.stdout).toContain(`# TYPE replay_fidelity_${level} gauge`);
      expect(r.stdout).toMatch(new RegExp(`^replay_fidelity_${level}\\{scanner="[^"]+",ecosystem="[^"]+",policy_set="[^"]+",base_os="[^"]+"\\} [0-9.]+$`, 'm'));
    }
    expect(r.stdout).toContain('ecosystem="we\\"ird\\\\eco"');
    expect(r.stdout).toMatch(/^replay_runs_total\{status="passed"\} \d+$/m);
    expect(r.stdout).toMatch(/^replay_mismatches\{reason="feed_drift"\} \d+$/m);
    expect(r.stdout).toMatch(/^replay_duration_seconds_count 600$/m);
    const runs = [...r.stdout.matchAll(/^replay_runs_total\{status="\w+"\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
    expect(runs).toBe(600);
    // Same index, same instant: same bytes.
    expect((await runStella(['metrics', '--db', db, ...NOW_ARG])).stdout).toBe(r.stdout);
  });

  it('a retag moves a replay from one replay_mismatches reason to another; no series declared a counter goes down', async () => {
    const db2 = path.join(dir, 'retag.db');
    const ix = await runStella(['index', records, '--db', db2]);
    expect(ix.code, ix.stderr).toBe(0);
    const scrape = async () => {
      const r = await runStella(['metrics', '--db', db2, ...NOW_ARG]);
      expect(r.code, r.stderr).toBe(0);
      expect(promtool(r.stdout)).toEqual({ status: 0, out: '' });
      return scrapeOf(r.stdout);
    };
    const before = await scrape();
    const victim = mismatched.find((m) => m.reason !== 'runtime_drift')!;
    const byReason = (reason: string) => [...before.values.keys()].filter((k) => k.endsWith(`{reason="${reason}"}`));
    const [from, to] = [byReason(victim.reason), byReason('runtime_drift')];
    expect([from.length, to.length]).toEqual([1, 1]);
    expect(before.values.get(from[0])).toBeGreaterThan(0);
    const t = await runStella(['retag', '--ids', victim.id, '--tag', 'runtime_drift', '--db', db2, '--who', 'metrics-test', '--json']);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ changed: 1 });
    const after = await scrape();
    // Whatever Prometheus is told is a counter never decreases between the scrapes.
    const counters = [...before.values.keys()].filter((k) => before.typeOf(k) === 'counter');
    expect(counters.length).toBeGreaterThan(3);
    for (const k of counters) expect(after.values.get(k), `${k} is declared a counter`).toBeGreaterThanOrEqual(before.values.get(k)!);
    // The retag shows: one replay fewer under its old reason, one more under the new one, in a gauge.
    expect([after.values.get(from[0]), after.values.get(to[0])]).toEqual([before.values.get(from[0])! - 1, before.values.get(to[0])! + 1]);
    expect([from[0], to[0]]).toEqual([`replay_mismatches{reason="${victim.reason}"}`, 'replay_mismatches{reason="runtime_drift"}']);
    expect(before.typeOf(from[0])).toBe('gauge');
  });

  it('an empty index is valid exposition too', async () => {
    const store = openStore(path.join(dir, 'empty.db'));
    const text = renderPrometheus({ window: (await store.rollup({ from: '2026-01-01', to: '2026-01-31' })), windowDays: 30, allTime: (await store.rollup(null)) });
    store.close();
    expect(promtool(text).status).toBe(0);
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('--serve answers GET /metrics on 127.0.0.1 only, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [STELLA_BIN, 'metrics', '--serve', '0', '--db', db, ...NOW_ARG], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listen line: ${err}`)), 20_000);
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        const m = /serving http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
    });
    try {
      const res = await get(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.type).toContain('text/plain; version=0.0.4');
      expect(promtool(res.body).status).toBe(0);
      expect(res.body).toBe((await runStella(['metrics', '--db', db, ...NOW_ARG])).stdout);
      expect((await get(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
      const ss = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
      if (!ss.error) {
        const listeners = ss.stdout.trim().split('\n').filter(Boolean);
        expect(listeners.length).toBe(1);
        expect(listeners[0]).toContain(`127.0.0.1:${port}`);
      }
    } finally {
      const code = new Promise((r) => child.on('exit', (c) => r(c)));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
    }
  });

  it('bad input exits 2 with one line', async () => {
    for (const args of [['--serve', 'http'], ['--window', 'week'], ['--now', '31/01/2026']]) {
      const r = await runStella(['metrics', '--db', db, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const missing = path.join(dir, 'missing.db');
    const r = await runStella(['metrics', '--db', missing]);
    expect(r.stderr).toBe(`stella metrics: ${missing}: no index here yet: run \`stella index DIR\` first\n`);
  });
});

describe('stella badge', () => {
  it('--json is a shields endpoint document matching the gate', async () => {
    const r = await runStella(['badge', '--json', '--db', db, ...NOW_ARG]);
    expect(r.code).toBe(0);
    const b = JSON.parse(r.stdout);
    const g = await runStella(['gate', '--json', '--db', db, ...NOW_ARG]);
    expect(g.stderr).toBe('');
    const gate = JSON.parse(g.stdout);
    expect(Object.keys(b).sort()).toEqual(['color', 'label', 'message', 'schemaVersion']);
    expect(b.schemaVersion).toBe(1);
    expect(b.label).toBe('Replay Fidelity');
    expect(b.message).toBe(`${(Math.floor(gate.bf_30d * 1000 + 1e-9) / 10).toFixed(1)}%`);
    expect(b.color).toBe({ green: 'brightgreen', warn: 'yellow', fail: 'red' }[gate.state as string]);
  });

  it('--svg carries the text "Replay Fidelity: NN.N%" and --out writes it atomically', async () => {
    const out = path.join(dir, 'badge', 'fidelity.svg');
    const r = await runStella(['badge', '--svg', '--out', out, '--db', db, ...NOW_ARG]);
    expect(r.code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toMatch(/<title>Replay Fidelity: \d{1,3}\.\d%<\/title>/);
  });

  it('a 99.2% index says 99.2% in green', async () => {
    const store = openStore(path.join(dir, 'b992.db'));
    await store.ingest({
      scans: [],
      replays: Array.from({ length: 1000 }, (_, i) => replayIn({ i, finishedAt: '2026-01-10T10:00:00Z', outcome: i < 8 ? 'failed' : 'passed', prefix: 'b' })),
    });
    store.close();
    const r = await runStella(['badge', '--json', '--db', path.join(dir, 'b992.db'), ...NOW_ARG]);
    expect(JSON.parse(r.stdout)).toEqual({ schemaVersion: 1, label: 'Replay Fidelity', message: '99.2%', color: 'brightgreen' });
    const svg = await runStella(['badge', '--svg', '--db', path.join(dir, 'b992.db'), ...NOW_ARG]);
    expect(svg.stdout).toContain('<title>Replay Fidelity: 99.2%</title>');
  });

  it('needs exactly one of --svg/--json (exit 2)', async () => {
    for (const args of [[], ['--svg', '--json']]) {
      const r = await runStella(['badge', '--db', db, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('stella badge: badge needs exactly one of --svg or --json\n');
    }
  });
});

describe('stella ticket', () => {
  it('markdown with the manifest path + sha256, reason, subtags, diff summary and the reproduction command', async () => {
    const r = await runStella(['ticket', failedId, '--db', db]);
    expect(r.code).toBe(0);
    const recordDir = path.join(records, failedId);
    const replay = JSON.parse(readFileSync(path.join(recordDir, 'replay.json'), 'utf8'));
    expect(r.stdout).toMatch(new RegExp(`^# Replay ${failedId} did not match scan ${replay.original_scan_id}`));
    expect(r.stdout).toContain(`- Path: \`${recordDir}/manifest.json\``);
    expect(r.stdout).toContain(`- sha256: \`${replay.manifest_sha256}\``);
    expect(r.stdout).toContain(`**Mismatch reason:** \`${replay.mismatch_reason}\``);
    expect(r.stdout).toContain(`\`${replay.subtags[0]}\``);
    expect(r.stdout).toContain('"vulnerabilities_appeared"');
    // The reproduction is `stella repro ID`, by absolute path with the home named (issue 13).
    expect(r.stdout).toContain(`STELLA_HOME=${path.dirname(db)} ${process.execPath} ${STELLA_BIN} repro ${failedId}`);
    expect(existsSync(path.join(recordDir, 'manifest.json'))).toBe(true);
  });

  it('--json carries the same parts; a human override shows beside the classifier tag', async () => {
    const copy = path.join(dir, 'ticket.db');
    const h = new Database(db);
    h.prepare('VACUUM INTO ?').run(copy);
    h.close();
    const rt = await runStella(['retag', '--db', copy, '--ids', failedId, '--tag', 'runtime_drift', '--who', 'ana']);
    expect(rt.code).toBe(0);
    const j = JSON.parse((await runStella(['ticket', failedId, '--db', copy, '--json'])).stdout);
    expect(j.tag).toBe('runtime_drift');
    expect(j.human_tag).toBe('runtime_drift');
    expect(j.reproduce).toBe(`STELLA_HOME=${path.dirname(copy)} ${process.execPath} ${STELLA_BIN} repro ${failedId} --db ${copy}`);
    expect(j.markdown).toContain('`runtime_drift` (human override; classifier said');
  });

  it('an unknown replay id exits 2 naming the index', async () => {
    const r = await runStella(['ticket', 'replay_nope', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stella ticket: ${db}: no replay 'replay_nope' in the index (run \`stella index DIR\` first)\n`);
  });
});

describe('stella fidelity', () => {
  it('--json: window figures, buckets worst first, one trend point per day', async () => {
    const r = await runStella(['fidelity', '--window', '90d', '--by', 'ecosystem', '--json', '--db', db, ...NOW_ARG]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.window_days).toBe(90);
    expect(j.trend).toHaveLength(90);
    expect(j.from).toBe('2025-11-03');
    expect(j.to).toBe('2026-01-31');
    expect(j.buckets.reduce((s: number, b: { n: number }) => s + b.n, 0)).toBe(j.n);
    expect(j.trend.reduce((s: number, p: { n: number }) => s + p.n, 0)).toBe(j.n);
    for (let i = 1; i < j.buckets.length; i++) expect(j.buckets[i - 1].bf ?? 2).toBeLessThanOrEqual(j.buckets[i].bf ?? 2);
    // Cross-check with the raw rows.
    const h = new Database(db, { readonly: true });
    const raw = h
      .prepare("SELECT count(*) AS n, sum(bf_match) AS bf FROM replay_runs WHERE status != 'error' AND day BETWEEN '2025-11-03' AND '2026-01-31'")
      .get() as { n: number; bf: number };
    h.close();
    expect(j.n).toBe(raw.n);
    expect(j.bf).toBeCloseTo(raw.bf / raw.n, 12);
  });

  it('every --by dimension works; a bad one exits 2', async () => {
    for (const by of ['scanner', 'ecosystem', 'policy_set', 'base_os', 'feed']) {
      const r = await runStella(['fidelity', '--by', by, '--db', db, ...NOW_ARG]);
      expect(r.code, by).toBe(0);
      expect(r.stdout).toContain(`by ${by}:`);
    }
    const bad = await runStella(['fidelity', '--by', 'colour', '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("stella fidelity: --by must be one of scanner|ecosystem|policy_set|base_os|feed, got 'colour'\n");
    const badWindow = await runStella(['fidelity', '--window', '0d', '--db', db]);
    expect(badWindow.code).toBe(2);
  });
});
