// The command lines the operations kit runs (ops/systemd, ops/kubernetes) are run here as they are
// written, against a real (empty) team store: `stella nightly` to completion, `stella worker` for one
// round (`--once` appended: the unit's worker runs until stopped). An option the commands do not know,
// or a value they refuse, fails here rather than at 02:00 on a server.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO, runStella } from '../helpers/cli.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const server = requirePostgres();
const OPS = path.join(REPO, 'ops');
const ENGINE = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';

/** ExecStart's argv after `/usr/bin/env stella`, with systemd's specifiers and variables filled in. */
function unitArgs(unit: string, vars: Record<string, string>): string[] {
  const line = /^ExecStart=(.+)$/m.exec(readFileSync(path.join(OPS, 'systemd', unit), 'utf8'))![1];
  const argv = line.split(/\s+/).map((a) => a.replace(/\$\{(\w+)\}|%([A-Za-z])/g, (_, v: string | undefined, s: string | undefined) => vars[v ?? `%${s}`]));
  expect(argv.slice(0, 2)).toEqual(['/usr/bin/env', 'stella']);
  return argv.slice(2);
}

/** The first container's argv after `stella`, with `$(VAR)` filled in. */
function podArgs(file: string, vars: Record<string, string>): string[] {
  const doc = parse(readFileSync(path.join(OPS, 'kubernetes', file), 'utf8'));
  const spec = doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec.template.spec : doc.spec.template.spec;
  const [c] = spec.containers as Array<{ command: string[]; args: string[] }>;
  expect(c.command).toEqual(['stella']);
  return c.args.map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => vars[v]));
}

const gateExit = (state: string) => ({ green: 0, warn: 3, fail: 1 })[state];

describe('the ops kit runs the commands as built', () => {
  it('systemd: stella-nightly.service and stella-worker@.service', async () => {
    const home = tempDir('stella-ops-');
    const db = await server.freshDatabase();
    const env = { STELLA_HOME: home, STELLA_DB: db };
    const nightly = unitArgs('stella-nightly.service', {}).map((a) => a.replace('/srv/stella', home));
    const n = await runStella([...nightly, '--json'], { env });
    const r = JSON.parse(n.stdout);
    // An empty team store has no production replays: the gate fails (exit 1), as the unit expects a page.
    expect(n.code, n.stderr).toBe(gateExit(r.gate.state));
    expect(r).toMatchObject({ enqueued: { added: 0 }, jobs: { queued: 0, leased: 0, done: 0, failed: 0 }, waited: { timed_out: false }, gate: { n_30d: 0 } });
    expect(r.batch).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const worker = unitArgs('stella-worker@.service', { DOCKER_HOST: ENGINE, '%H': 'host1', '%i': 'engine1' });
    expect(worker.slice(0, 3)).toEqual(['worker', '--engine', ENGINE]);
    const w = await runStella([...worker, '--once'], { env });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain('worker host1-engine1 on ' + ENGINE);
  }, 120_000);

  it('Kubernetes: the nightly CronJob and the worker Deployment', async () => {
    const home = tempDir('stella-ops-k8s-');
    const db = await server.freshDatabase();
    const env = { STELLA_HOME: home, STELLA_DB: db };
    const n = await runStella([...podArgs('stella-nightly-cronjob.yaml', {}).map((a) => a.replace('/srv/stella', home)), '--json'], { env });
    const r = JSON.parse(n.stdout);
    expect(n.code, n.stderr).toBe(gateExit(r.gate.state));
    expect(r.waited).toEqual({ timed_out: false });
    const worker = podArgs('stella-worker-deployment.yaml', { POD_NAME: 'stella-worker-7d9f8-abcde' }).map((a) => a.replace('unix:///run/engine/docker.sock', ENGINE));
    const w = await runStella([...worker, '--once'], { env });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain('worker stella-worker-7d9f8-abcde on ' + ENGINE);
  }, 120_000);
});
