// `stella diff` and `stella explain` as a user runs them (built CLI, real records from fixtures/).
import { describe, expect, test } from 'vitest';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, listFiles } from '../helpers/tmp.js';
import { runStella } from '../helpers/cli.js';
import { allFeed, buildRecord, feedDigest, policyDigest, type Policy } from './records.js';

const root = tempDir('stella-diffcli-');
const feed = allFeed();
const pass: Policy = { threshold: 'critical', fix_age_days: null };
const high: Policy = { threshold: 'high', fix_age_days: null };
// Laid out as `stella replay --out-dir` does: <root>/<scan_id>/ and <root>/<replay_id>/.
const orig = buildRecord(path.join(root, 'tmp-orig'), { feed: feed.slice(1), policy: pass });
const origDir = path.join(root, orig.manifest.scan_id);
cpSync(orig.dir, origDir, { recursive: true });
const replayed = buildRecord(path.join(root, 'rpl_policy'), {
  feed: feed.slice(1),
  policy: high,
  pinnedManifest: orig.manifest,
  replayOf: { scanId: orig.manifest.scan_id, mode: `what-if:policy=${policyDigest(high)}` },
});
const same = buildRecord(path.join(root, 'rpl_same'), { feed: feed.slice(1), policy: pass, pinnedManifest: orig.manifest, replayOf: { scanId: orig.manifest.scan_id } });
const home = path.join(root, 'home');
const env = { STELLA_HOME: home };

describe('stella diff', () => {
  test('exit 0 when the level matches, 1 when it differs (per --mode)', async () => {
    const sameBf = await runStella(['diff', '--a', origDir, '--b', same.dir, '--mode', 'bf'], { env });
    expect(sameBf.code).toBe(0);
    expect(sameBf.stdout).toContain('cause: none (records match bitwise)');
    for (const [mode, code] of [['bf', 1], ['sf', 1], ['pf', 1]] as const) {
      const r = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--mode', mode], { env });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(code);
    }
  });

  test('the text report names the cause, the evidence, the verdict flip, with + - ~ markers and no colour under NO_COLOR', async () => {
    const r = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--mode', 'pf'], { env });
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toContain('cause: policy_drift');
    expect(r.stdout).toContain('verdict flipped pass → fail on reason +SEV_HIGH');
    expect(r.stdout).toContain('verdict: pass → fail');
    expect(r.stdout).toMatch(/^ {2}\+ SEV_HIGH pkg:npm\/engine\.io@4\.1\.2$/m);
    expect(r.stdout).toMatch(/^> PF {2}! differs$/m);
    expect(r.stdout).toMatch(/^ {4}~ verdict /m);
    expect(r.stdout).toMatch(/^ {4}= sbom /m);
  });

  test('colour only when allowed: FORCE_COLOR colours, NO_COLOR or --no-color drops it', async () => {
    const coloured = await runStella(['diff', '--a', origDir, '--b', replayed.dir], { env: { ...env, NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(coloured.stdout).toMatch(/\x1b\[/);
    const flag = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--no-color'], { env: { ...env, NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(flag.stdout).not.toMatch(/\x1b\[/);
    expect(flag.stdout.replace(/\x1b\[[0-9;]*m/g, '')).toBe(coloured.stdout.replace(/\x1b\[[0-9;]*m/g, ''));
  });

  test('--json carries comparison, classification and a diff_summary; --raw the canonical text diff', async () => {
    const r = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--mode', 'sf', '--json', '--raw'], { env });
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout);
    expect(body.mode).toBe('sf');
    expect(body.match).toBe(false);
    expect(body.classification.mismatch_reason).toBe('policy_drift');
    expect(body.diff_summary.diff_summary_version).toBe(1);
    expect(body.diff_summary.verdict_change).toEqual({ a: 'pass', b: 'fail', reasons_added: body.comparison.sf.verdict.reasons.added, reasons_removed: [] });
    expect(body.raw).toContain('--- a/artifacts/verdict.json');
    expect(body.raw).toContain('-$.decision = "pass"');
    expect(body.raw).toContain('+$.decision = "fail"');
    const text = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--raw'], { env });
    expect(text.stdout).toContain('+$.decision = "fail"');
  });

  test('same input twice gives the same bytes (deterministic report)', async () => {
    const r1 = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--json'], { env });
    const r2 = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--json'], { env });
    expect(r1.stdout).toBe(r2.stdout);
  });
});

describe('stella explain', () => {
  test('finds the original beside the replay and prints the one-paragraph answer', async () => {
    const r = await runStella(['explain', replayed.dir], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const replayId = JSON.parse(readFileSync(path.join(replayed.dir, 'replay.json'), 'utf8')).replay_id;
    expect(r.stdout).toBe(
      `replay ${replayId} does not match scan ${orig.manifest.scan_id} (BF differs, SF differs, PF differs). Cause: policy_drift — ` +
        `$.policy.policy_bundle_digest changed from ${policyDigest(pass).slice(0, 19)}… to ${policyDigest(high).slice(0, 19)}…; ` +
        `policy bundle ${policyDigest(pass).slice(0, 19)}… (A) is not in the blob store, so the changed rules cannot be named; ` +
        `policy bundle ${policyDigest(high).slice(0, 19)}… (B) is not in the blob store, so the changed rules cannot be named; ` +
        'verdict flipped pass → fail on reason +SEV_HIGH. (classifier 1.0.0)\n',
    );
  });

  test('--original names the original explicitly; a feed-drift replay names the record', async () => {
    const older = feed.filter((e) => e.record.id !== 'GHSA-29mw-wpgm-hmr9');
    const o = buildRecord(path.join(root, 'elsewhere', 'original'), { feed: older });
    const r = buildRecord(path.join(root, 'rpl_feed'), { feed, pinnedManifest: o.manifest, replayOf: { scanId: o.manifest.scan_id, mode: `what-if:feed=${feedDigest(feed)}` } });
    const out = await runStella(['explain', r.dir, '--original', o.dir], { env });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Cause: feed_drift');
    expect(out.stdout).toContain(`feed bundle ${feedDigest(older).slice(0, 19)}… (A) is not in the blob store`);
  });
});

describe('bad input: one line naming file and JSON path, exit 2, nothing written', () => {
  const bad = path.join(root, 'bad');
  const copy = (name: string) => {
    const d = path.join(bad, name);
    cpSync(origDir, d, { recursive: true });
    return d;
  };
  const expectOneLine = (r: { code: number | null; stdout: string; stderr: string }, line: string) => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(line + '\n');
  };

  test('a directory that is not a scan record', async () => {
    const empty = path.join(bad, 'empty');
    mkdirSync(empty, { recursive: true });
    const before = listFiles(root);
    const r = await runStella(['diff', '--a', empty, '--b', origDir], { env });
    expectOneLine(r, `stella diff: ${path.join(empty, 'manifest.json')}: not a scan record: manifest.json is missing (a scan record starts with its ScanManifest)`);
    expect(listFiles(root)).toEqual(before);
    const missing = await runStella(['diff', '--a', path.join(bad, 'nope'), '--b', origDir], { env });
    expectOneLine(missing, `stella diff: ${path.join(bad, 'nope')}: no such directory`);
  });

  test('an artifact is missing', async () => {
    const d = copy('no-vex');
    const { rmSync } = await import('node:fs');
    rmSync(path.join(d, 'artifacts/vex.openvex.json'));
    const r = await runStella(['diff', '--a', origDir, '--b', d], { env });
    expectOneLine(r, `stella diff: ${path.join(d, 'artifacts/vex.openvex.json')}: not a scan record: artifacts/vex.openvex.json is missing (the vex artifact)`);
  });

  test('an artifact of unknown schema names the file and $.schema / $.bomFormat', async () => {
    const d = copy('unknown-findings');
    const f = path.join(d, 'artifacts/findings.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace('"stella-findings/v1"', '"stella-findings/v9"'));
    const r = await runStella(['diff', '--a', origDir, '--b', d], { env });
    expectOneLine(r, `stella diff: ${f}: $.schema: unknown artifact schema "stella-findings/v9" (expected stella-findings-v1)`);
    const s = copy('unknown-sbom');
    const sf = path.join(s, 'artifacts/sbom.cdx.json');
    writeFileSync(sf, readFileSync(sf, 'utf8').replace('"bomFormat": "CycloneDX"', '"bomFormat": "SPDX"'));
    const r2 = await runStella(['diff', '--a', s, '--b', origDir], { env });
    expectOneLine(r2, `stella diff: ${sf}: $.bomFormat: unknown artifact schema "SPDX" (expected cyclonedx-1.6)`);
  });

  test('outputs.json naming an unknown schema', async () => {
    const d = copy('unknown-outputs');
    const f = path.join(d, 'outputs.json');
    const o = JSON.parse(readFileSync(f, 'utf8'));
    o.verdict.schema = 'stella-verdict-v2';
    writeFileSync(f, JSON.stringify(o));
    const r = await runStella(['diff', '--a', origDir, '--b', d], { env });
    expectOneLine(r, `stella diff: ${f}: $.verdict.schema: unknown schema "stella-verdict-v2" for verdict (expected stella-verdict-v1)`);
  });

  test('a truncated artifact names the file and where the JSON broke', async () => {
    const d = copy('truncated');
    const f = path.join(d, 'artifacts/verdict.json');
    const text = readFileSync(f, 'utf8');
    writeFileSync(f, text.slice(0, text.length / 2));
    const r = await runStella(['diff', '--a', origDir, '--b', d], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(new RegExp(`^stella diff: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\$`));
  });

  test('a malformed replay.json names the field', async () => {
    const d = path.join(bad, 'bad-replay');
    cpSync(replayed.dir, d, { recursive: true });
    const f = path.join(d, 'replay.json');
    const rj = JSON.parse(readFileSync(f, 'utf8'));
    rj.original_scan_id = 42;
    writeFileSync(f, JSON.stringify(rj));
    const r = await runStella(['explain', d, '--original', origDir], { env });
    expectOneLine(r, `stella explain: ${f}: $.original_scan_id: must be a string, got 42`);
  });

  test('two records of different scans → RECORDS_UNRELATED unless --force', async () => {
    const other = buildRecord(path.join(bad, 'other-scan'), { feed, policy: high });
    const r = await runStella(['diff', '--a', origDir, '--b', other.dir], { env });
    expectOneLine(
      r,
      `stella diff: ${path.join(other.dir, 'manifest.json')}: $.scan_id: records of different scans: ${orig.manifest.scan_id} and ${other.manifest.scan_id} (neither is a replay of the other); pass --force to compare anyway`,
    );
    const forced = await runStella(['diff', '--a', origDir, '--b', other.dir, '--force'], { env });
    expect(forced.code).toBe(1);
    expect(forced.stdout).toContain('cause: feed_drift');
  });

  test('explain on a plain scan record, and on a replay whose original cannot be found', async () => {
    const r = await runStella(['explain', origDir], { env });
    expectOneLine(r, `stella explain: ${path.join(origDir, 'replay.json')}: not a replay record: replay.json is missing (use stella diff to compare two scans)`);
    const lone = path.join(bad, 'deep', 'lone', 'rpl_lone');
    cpSync(replayed.dir, lone, { recursive: true });
    const r2 = await runStella(['explain', lone], { env });
    expectOneLine(r2, `stella explain: ${path.join(lone, 'replay.json')}: $.original_scan_id: original scan ${orig.manifest.scan_id} not found beside the replay; pass --original DIR`);
  });

  test('usage errors', async () => {
    const r = await runStella(['diff', '--a', origDir, '--b', replayed.dir, '--mode', 'xf'], { env });
    expectOneLine(r, "stella diff: unknown --mode 'xf': expected bf|sf|pf");
    const r2 = await runStella(['diff', '--a', origDir], { env });
    expectOneLine(r2, 'stella diff: diff needs --a DIR and --b DIR (see stella diff --help)');
  });
});
