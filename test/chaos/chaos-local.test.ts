// `stella chaos --executor local`: the same variations through the child-process executor (no Docker):
// the launcher is mapped to its host path and still applies TZ, the process clock and reversed listings.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStella, THIRD_PARTY } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import type { ChaosReport } from '../../src/core/chaos/index.js';

describe('stella chaos (local executor)', () => {
  it('names tz for the tz-date-rule fault and nothing else', async () => {
    const home = tempDir('stella-chaos-local-');
    const env = { STELLA_HOME: home };
    const feed = path.join(home, 'feed.tar.zst');
    expect((await runStella(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv/pypi'), '--out', feed, '--generated-at', '2024-10-05T00:00:00Z'], { env })).code).toBe(0);
    const scan = await runStella(
      ['scan', path.join(THIRD_PARTY, 'lockfiles/python/netbox-v3.0.0/requirements.txt'), '--feed', feed, '--policy', 'fixtures/policies/prod-default.yaml', '--out-dir', path.join(home, 'scans'), '--clock', '2024-10-05T06:00:00Z', '--fault', 'tz-date-rule', '--json'],
      { env },
    );
    expect(scan.code, scan.stderr).toBe(0);
    const manifest = path.join((JSON.parse(scan.stdout) as { dir: string }).dir, 'manifest.json');
    const r = await runStella(['chaos', '--executor', 'local', '--from', manifest, '--variations', 'tz,env,file-order,clock', '--json'], { env, timeoutMs: 300_000 });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as ChaosReport;
    expect(report.baseline.bf_match_original).toBe(true);
    expect(report.exposed_by).toEqual(['tz']);
    expect(report.runs.map((x) => [x.name, x.status])).toEqual([
      ['tz', 'failed'],
      ['env', 'passed'],
      ['file-order', 'passed'],
      ['clock', 'passed'],
      ['combined', 'failed'],
    ]);
    expect(r.code).toBe(1);
  }, 300_000);
});
