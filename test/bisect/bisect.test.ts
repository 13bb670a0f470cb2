// `stella replay --bisect`: real scans A and B that differ in feed and policy; the bisect replays A with
// B's pins swapped in one at a time (local executor: real child processes, real blob store) and must name
// which swap reproduces which artifact.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, cpSync } from 'node:fs';
import path from 'node:path';
import { runStella, THIRD_PARTY, REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { planBisect, judgeBisect, bisectTrials } from '../../src/core/classify/bisect.js';
import type { Digest, ScanManifest } from '../../src/core/formats.js';
import { readFileSync } from 'node:fs';

const CLOCK = '2025-12-12T10:15:30Z';
const INPUT = path.join(THIRD_PARTY, 'lockfiles/npm/socket.io/package-lock.json');

describe('bisect core (pure)', () => {
  const m = JSON.parse(readFileSync(path.join(REPO, 'fixtures/manifests/example.manifest.json'), 'utf8')) as ScanManifest;
  const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

  it('plans one trial per differing pin, then all together, and lists what cannot be swapped', () => {
    const b: ScanManifest = structuredClone(m);
    b.feeds.vuln_feed_bundle_digest = d('f');
    b.policy.policy_bundle_digest = d('e');
    b.environment.tz = 'Asia/Tokyo';
    const plan = planBisect(m, b);
    expect(plan.swaps.map((s) => s.key)).toEqual(['feed', 'policy']);
    expect(plan.unswappable).toEqual([{ path: '$.environment.tz', a: 'UTC', b: 'Asia/Tokyo' }]);
    expect(bisectTrials(plan)).toEqual([['feed'], ['policy'], ['feed', 'policy']]);
  });

  it('names the single swap that reproduces B, or the combination, or nothing', () => {
    const b: ScanManifest = structuredClone(m);
    b.feeds.vuln_feed_bundle_digest = d('f');
    b.policy.policy_bundle_digest = d('e');
    const plan = planBisect(m, b);
    const single = judgeBisect(['verdict'], plan, [
      { swap: ['feed'], remaining: ['verdict'] },
      { swap: ['policy'], remaining: [] },
      { swap: ['feed', 'policy'], remaining: [] },
    ]);
    expect(single.culprit).toEqual(['policy']);
    expect(single.explanation).toBe('swapping the policy alone reproduces B (verdict).');
    const both = judgeBisect(['findings', 'verdict'], plan, [
      { swap: ['feed'], remaining: ['verdict'] },
      { swap: ['policy'], remaining: ['findings', 'verdict'] },
      { swap: ['feed', 'policy'], remaining: [] },
    ]);
    expect(both.culprit).toEqual(['feed', 'policy']);
    expect(both.trials.map((t) => t.reproduces)).toEqual([['findings'], [], ['findings', 'verdict']]);
    const none = judgeBisect(['verdict'], plan, [
      { swap: ['feed'], remaining: ['verdict'] },
      { swap: ['policy'], remaining: null, error: 'timeout' },
      { swap: ['feed', 'policy'], remaining: ['verdict'] },
    ]);
    expect(none.culprit).toBeNull();
    expect(none.explanation).toMatch(/^no swap of feed, policy reproduces B's verdict/);
    expect(judgeBisect([], plan, []).culprit).toEqual([]);
  });
});

describe('stella replay --bisect (real scans, local executor)', () => {
  const work = tempDir();
  const env = { STELLA_HOME: path.join(work, 'home') };
  let a = '';
  let b = '';

  const scan = async (feed: string, policy: string, out: string) => {
    const r = await runStella(['scan', INPUT, '--feed', feed, '--policy', policy, '--out-dir', out, '--clock', CLOCK, '--json'], { env, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { dir: string }).dir;
  };

  beforeAll(async () => {
    // Feed A lacks the GHSA records socket.io's npm packages hit; feed B has them. Policy B is lenient.
    const oldFeedSrc = path.join(work, 'osv-old');
    mkdirSync(oldFeedSrc);
    cpSync(path.join(THIRD_PARTY, 'osv/go'), path.join(oldFeedSrc, 'go'), { recursive: true });
    const newFeedSrc = path.join(work, 'osv-new');
    mkdirSync(newFeedSrc);
    cpSync(path.join(THIRD_PARTY, 'osv/go'), path.join(newFeedSrc, 'go'), { recursive: true });
    cpSync(path.join(THIRD_PARTY, 'osv/ghsa'), path.join(newFeedSrc, 'ghsa'), { recursive: true });
    for (const [src, out] of [[oldFeedSrc, 'old.tar.zst'], [newFeedSrc, 'new.tar.zst']]) {
      const r = await runStella(['feed', 'snapshot', src, '--out', path.join(work, out), '--generated-at', CLOCK], { env, cwd: work });
      expect(r.code, r.stderr).toBe(0);
    }
    for (const p of ['prod-default', 'lenient']) {
      const r = await runStella(['policy', 'bundle', path.join(REPO, `fixtures/policies/${p}.yaml`), '--out', path.join(work, `${p}.json`)], { env, cwd: work });
      expect(r.code, r.stderr).toBe(0);
    }
    a = await scan(path.join(work, 'old.tar.zst'), path.join(work, 'prod-default.json'), path.join(work, 'scans-a'));
    b = await scan(path.join(work, 'new.tar.zst'), path.join(work, 'lenient.json'), path.join(work, 'scans-b'));
  }, 240_000);

  it('replays each swap and reports which artifacts each one reproduces', async () => {
    const r = await runStella(['replay', '--from', path.join(a, 'manifest.json'), '--bisect', b, '--out-dir', path.join(work, 'bisect'), '--executor', 'local', '--json'], {
      env,
      cwd: work,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      plan: { swaps: Array<{ key: string }>; unswappable: unknown[] };
      verdict: { differs: string[]; culprit: string[] | null; trials: Array<{ swap: string[]; reproduces: string[]; full: boolean }> };
      trial_dirs: string[];
    };
    expect(out.plan.swaps.map((s) => s.key)).toEqual(['feed', 'policy']);
    expect(out.plan.unswappable).toEqual([]);
    // New GHSA records change findings, VEX and the verdict; the policy change changes the verdict.
    expect(out.verdict.differs).toEqual(['findings', 'vex', 'verdict']);
    const bySwap = Object.fromEntries(out.verdict.trials.map((t) => [t.swap.join('+'), t]));
    expect(bySwap['feed'].reproduces).toEqual(['findings', 'vex']);
    expect(bySwap['feed'].full).toBe(false);
    expect(bySwap['policy'].reproduces).toEqual([]);
    expect(bySwap['feed+policy'].full).toBe(true);
    expect(out.verdict.culprit).toEqual(['feed', 'policy']);
    expect(out.trial_dirs).toHaveLength(3);

    const text = await runStella(['replay', '--from', path.join(a, 'manifest.json'), '--bisect', b, '--out-dir', path.join(work, 'bisect2'), '--executor', 'local'], { env, cwd: work });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/verdict: no single swap reproduces B; together feed \+ policy do \(feed → findings, vex; policy → nothing\)\./);
  });

  it('a single differing pin is named as the cause', async () => {
    const b2 = await scan(path.join(work, 'new.tar.zst'), path.join(work, 'prod-default.json'), path.join(work, 'scans-b2'));
    const r = await runStella(['replay', '--from', path.join(a, 'manifest.json'), '--bisect', b2, '--out-dir', path.join(work, 'bisect3'), '--executor', 'local'], { env, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/swap feed +reproduces B /);
    expect(r.stdout).toMatch(/verdict: swapping the feed alone reproduces B \(findings, vex, verdict\)\.\n$/);
  });

  it('refuses --bisect with --batch or --what-if', async () => {
    const r = await runStella(['replay', '--batch', a, '--bisect', b, '--out-dir', path.join(work, 'x')], { env, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--bisect works on one manifest/);
  });
});
