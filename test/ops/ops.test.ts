// The operations kit in ops/: Prometheus rules checked and unit-tested by promtool, the Grafana
// dashboard and the rules only naming series `stella metrics` prints, the systemd units verified by
// systemd-analyze, the Kubernetes manifests running the right commands.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { comboKey, ZERO, type BucketCounts } from '../../src/core/fidelity/index.js';
import { renderPrometheus } from '../../src/core/metrics/prometheus.js';
import { REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const OPS = path.join(REPO, 'ops');
// Scratch space for the tests below (tempDir registers its cleanup at collection time).
const scratch = tempDir('stella-ops-');
const scratchDir = (name: string) => {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  return dir;
};

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}); .ci/run installs it (prometheus for promtool, systemd for systemd-analyze)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The exposition `stella metrics` prints, from its renderer, for one bucket of each kind. */
function exposition(): string {
  const row = (dim: BucketCounts['dim'], bucket: string): BucketCounts => ({ ...ZERO, dim, bucket, total: 10, n: 9, bf: 8, sf: 9, pf: 9, errors: 1, dur_sum_ms: 12_000, dur_n: 10 });
  return renderPrometheus({
    window: [row('combo', comboKey('1.4.0', 'npm', 'prod-default', 'debian-12'))],
    windowDays: 30,
    allTime: [row('all', ''), row('status', 'passed'), row('cause', 'feed_drift')],
  });
}

function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

/** Each series name's type from the `# TYPE` lines: a summary's _sum and _count are counters. */
function seriesTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (m[2] === 'summary' || m[2] === 'histogram') for (const s of ['_sum', '_count']) out.set(m[1] + s, 'counter');
    else out.set(m[1], m[2]);
  }
  return out;
}

// PromQL words that look like identifiers but are not series names.
const PROMQL_WORDS = new Set([
  'avg', 'sum', 'min', 'max', 'count', 'by', 'without', 'offset', 'bottomk', 'topk', 'rate', 'increase', 'and', 'or', 'unless',
  'on', 'ignoring', 'group_left', 'group_right', 'bool', 'label_values', 'e', 'inf', 'nan',
]);

/** Series names an expression reads (identifiers outside strings and label matchers, not functions/keywords). */
function seriesIn(expr: string): string[] {
  const bare = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').replace(/\$\{?\w+\}?/g, '').replace(/\b\d+(\.\d+)?(e-?\d+|ms|[smhdwy])?\b/g, '0');
  const out: string[] = [];
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g;
  for (let m = re.exec(bare); m; m = re.exec(bare)) {
    const word = m[1];
    if (m[2] || PROMQL_WORDS.has(word.toLowerCase()) || /^\d/.test(word)) continue;
    // Label names inside `by (...)` / `without (...)`.
    const before = bare.slice(0, m.index);
    if (/\b(by|without|on|ignoring)\s*\([^)]*$/.test(before)) continue;
    out.push(word);
  }
  return out;
}

interface Panel { title: string; targets?: Array<{ expr: string }> }

function dashboardExprs(): Array<{ where: string; expr: string }> {
  const d = JSON.parse(readFileSync(path.join(OPS, 'grafana/stella-replay-fidelity.json'), 'utf8')) as { panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } };
  const out = d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
  for (const v of d.templating.list) {
    const m = v.definition && /^label_values\(([a-zA-Z_:][\w:]*),/.exec(v.definition);
    if (m) out.push({ where: `variable ${v.name}`, expr: m[1] });
  }
  return out;
}

function ruleExprs(): Array<{ where: string; expr: string }> {
  const doc = parse(readFileSync(path.join(OPS, 'prometheus/stella-rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
}

describe('Prometheus rules', () => {
  it('pass promtool check rules', () => {
    const r = run('promtool', ['check', 'rules', 'stella-rules.yml'], { cwd: path.join(OPS, 'prometheus') });
    expect(r.out).toContain('SUCCESS: 4 rules found');
    expect(r.code).toBe(0);
  });

  it('pass their promtool unit tests (warn on a 2-point weekly drop, page below 0.90 and regulated below 0.95)', () => {
    const r = run('promtool', ['test', 'rules', 'stella-rules.test.yml'], { cwd: path.join(OPS, 'prometheus') });
    expect(r.out).toContain('SUCCESS');
    expect(r.out).not.toContain('FAILED');
    expect(r.code).toBe(0);
  }, 120_000);

  it('the unit tests catch a wrong threshold (promtool test fails when the rule is off by a point)', () => {
    const dir = scratchDir('rules');
    for (const f of ['stella-rules.yml', 'stella-rules.test.yml']) copyFileSync(path.join(OPS, 'prometheus', f), path.join(dir, f));
    const rules = readFileSync(path.join(dir, 'stella-rules.yml'), 'utf8');
    writeFileSync(path.join(dir, 'stella-rules.yml'), rules.replace('< 0.95 - 1e-9', '< 0.94 - 1e-9'));
    const r = run('promtool', ['test', 'rules', 'stella-rules.test.yml'], { cwd: dir });
    expect(r.out).toContain('StellaRegulatedFidelityLow');
    expect(r.code).not.toBe(0);
  }, 120_000);
});

describe('metric names', () => {
  const printed = metricNames(exposition());

  it('the exposition is valid for promtool and has the series the kit reads', () => {
    const r = run('promtool', ['check', 'metrics'], { input: exposition() });
    expect(r.code, r.out).toBe(0);
    expect([...printed].sort()).toEqual([
      'replay_duration_seconds_count', 'replay_duration_seconds_sum', 'replay_fidelity_bf', 'replay_fidelity_pf', 'replay_fidelity_sf', 'replay_mismatches', 'replay_runs_total',
    ]);
  });

  it('rate(), irate() and increase() read only counters; gauges are read as they are (a retag moves replay_mismatches down)', () => {
    const types = seriesTypes(exposition());
    expect(types.get('replay_mismatches')).toBe('gauge');
    expect(types.get('replay_runs_total')).toBe('counter');
    const all = [...ruleExprs(), ...dashboardExprs()];
    let counted = 0;
    for (const { where, expr } of all) {
      for (const m of expr.matchAll(/\b(rate|irate|increase)\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/g)) {
        counted++;
        expect(types.get(m[2]), `${where}: ${m[1]}() of ${m[2]}, which is a ${types.get(m[2])}`).toBe('counter');
      }
    }
    expect(counted).toBeGreaterThan(3);
    expect(all.some((e) => seriesIn(e.expr).includes('replay_mismatches'))).toBe(true);
  });

  it('every alert and dashboard expression reads only series stella metrics prints', () => {
    const all = [...ruleExprs(), ...dashboardExprs()];
    expect(all.length).toBeGreaterThan(15);
    for (const { where, expr } of all) {
      const used = seriesIn(expr);
      expect(used.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of used) expect(printed.has(name), `${where} reads '${name}', which stella metrics does not print`).toBe(true);
    }
    expect(seriesIn('sum by (reason) (increase(replay_mismatchs[1d]))')).toEqual(['replay_mismatchs']);
  });

  it('every dashboard expression is valid PromQL (checked by promtool as recording rules)', () => {
    const dir = scratchDir('dashboard');
    const exprs = dashboardExprs().filter((e) => e.where.startsWith('panel'));
    const rules = {
      groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `stella:dashboard_${i}`, expr: e.expr.replace(/\$__range/g, '30d').replace(/\$\w+/g, '.*') })) }],
    };
    writeFileSync(path.join(dir, 'dashboard.rules.json'), JSON.stringify(rules));
    const r = run('promtool', ['check', 'rules', 'dashboard.rules.json'], { cwd: dir });
    expect(r.out).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.code).toBe(0);
  });
});

describe('systemd units', () => {
  const units = readdirSync(path.join(OPS, 'systemd')).sort();

  it('pass systemd-analyze verify with no warnings', () => {
    expect(units).toEqual(['stella-metrics.service', 'stella-nightly.service', 'stella-nightly.timer', 'stella-worker@.service']);
    const dir = scratchDir('systemd');
    for (const u of units) copyFileSync(path.join(OPS, 'systemd', u), path.join(dir, u));
    const r = run('systemd-analyze', ['verify', '--man=no', 'stella-nightly.service', 'stella-nightly.timer', 'stella-worker@engine1.service', 'stella-metrics.service'], { cwd: dir });
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    // The check is real: a unit with an unknown key or a missing program fails it.
    writeFileSync(path.join(dir, 'broken.service'), readFileSync(path.join(dir, 'stella-nightly.service'), 'utf8').replace('/usr/bin/env stella', '/nonexistent/stella').replace('Nice=10', 'Nicety=10'));
    const bad = run('systemd-analyze', ['verify', '--man=no', 'broken.service'], { cwd: dir });
    expect(bad.out).toMatch(/Unknown key 'Nicety'/);
    expect(bad.code).not.toBe(0);
  }, 60_000);

  it('the timer starts the nightly service at a valid calendar time; the services run the right commands', () => {
    const timer = readFileSync(path.join(OPS, 'systemd/stella-nightly.timer'), 'utf8');
    expect(timer).toMatch(/^Unit=stella-nightly\.service$/m);
    const cal = /^OnCalendar=(.+)$/m.exec(timer)![1];
    const r = run('systemd-analyze', ['calendar', cal]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Normalized form: \*-\*-\* 02:00:00 UTC/);
    const exec = (u: string) => /^ExecStart=(.+)$/m.exec(readFileSync(path.join(OPS, 'systemd', u), 'utf8'))![1].split(/\s+/);
    expect(exec('stella-nightly.service').slice(0, 3)).toEqual(['/usr/bin/env', 'stella', 'nightly']);
    expect(exec('stella-worker@.service').slice(0, 5)).toEqual(['/usr/bin/env', 'stella', 'worker', '--engine', '${DOCKER_HOST}']);
    expect(exec('stella-metrics.service').slice(0, 5)).toEqual(['/usr/bin/env', 'stella', 'metrics', '--serve', '9464']);
  });
});

describe('Kubernetes manifests', () => {
  const load = (f: string) => {
    const docs = parseAllDocuments(readFileSync(path.join(OPS, 'kubernetes', f), 'utf8'));
    for (const d of docs) expect(d.errors, f).toEqual([]);
    return docs.map((d) => d.toJS()) as Array<Record<string, any>>;
  };

  it('a CronJob runs `stella nightly` once a night, never two at a time', () => {
    const [cj] = load('stella-nightly-cronjob.yaml');
    expect([cj.apiVersion, cj.kind, cj.metadata.name]).toEqual(['batch/v1', 'CronJob', 'stella-nightly']);
    expect(cj.spec.schedule.split(' ')).toHaveLength(5);
    expect(cj.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [c] = pod.containers;
    expect([...c.command, ...c.args].slice(0, 2)).toEqual(['stella', 'nightly']);
    expect(c.env.find((e: any) => e.name === 'STELLA_DB').valueFrom.secretKeyRef).toEqual({ name: 'stella-db', key: 'url' });
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toContain('/srv/stella');
  });

  it('a Deployment runs `stella worker` against its own engine with no bridge network', () => {
    const [dep] = load('stella-worker-deployment.yaml');
    expect([dep.apiVersion, dep.kind, dep.metadata.name]).toEqual(['apps/v1', 'Deployment', 'stella-worker']);
    expect(dep.spec.selector.matchLabels).toEqual(dep.spec.template.metadata.labels);
    const [worker, engine] = dep.spec.template.spec.containers;
    expect([...worker.command, ...worker.args].slice(0, 4)).toEqual(['stella', 'worker', '--engine', 'unix:///run/engine/docker.sock']);
    expect(engine.args).toEqual(expect.arrayContaining(['-H', 'unix:///run/engine/docker.sock', '--bridge=none', '--iptables=false']));
    const mounts = (c: any) => c.volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`);
    expect(mounts(worker)).toContain('engine-socket:/run/engine');
    expect(mounts(engine)).toContain('engine-socket:/run/engine');
    expect(worker.securityContext.privileged).toBeUndefined();
    // The engine bind-mounts by host path what the worker stages under STELLA_HOME (blobs, each run's
    // manifest in STELLA_HOME/tmp): it must see the same volume at the same path. The worker's own /tmp
    // (an emptyDir of its own) is never bind-mounted.
    const home = worker.env.find((e: any) => e.name === 'STELLA_HOME').value;
    const volumeAt = (c: any, p: string) => c.volumeMounts.find((m: any) => m.mountPath === p)?.name;
    expect(volumeAt(worker, home)).toBe('store');
    expect(volumeAt(engine, home), `the engine container mounts the store at ${home}`).toBe('store');
  });
});
