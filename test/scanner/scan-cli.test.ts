// `stella scan` end to end through the built CLI: real findings read back from the record, schema
// validity of every SBOM/VEX written, determinism, the scanner process entry reproducing the record,
// fault flags, and bad input (one line, exit 2, nothing written).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, THIRD_PARTY, runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import { validateCycloneDx, validateOpenVex } from '../helpers/validators.js';
import { requireDocker } from '../helpers/docker.js';
import { validateManifest } from '../../src/core/manifest/validate.js';
import { canonicalizeArtifact } from '../../src/core/canonical/index.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, ARTIFACT_SCHEMAS, type Finding, type Outputs, type ScanManifest } from '../../src/core/formats.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { CLOCK, LOCK, SBOM, allOsvFeed, writeFeed } from './helpers.js';

const work = tempDir('stella-scan-cli-');
const home = path.join(work, 'home');
const env = { STELLA_HOME: home, TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
let feedFile: string;
let feedDigest: string;
const policyFile = path.join(work, 'policy.json');
/** Every record directory a test wrote; the last test validates all their SBOMs and VEX documents. */
const written: string[] = [];

beforeAll(async () => {
  const tsc = spawnSync('npx', ['tsc', '-p', '.'], { cwd: REPO, encoding: 'utf8' });
  expect(existsSync(path.join(REPO, 'dist/src/scanner/entry.js')), tsc.stdout).toBe(true);
  const feed = await allOsvFeed();
  feedFile = writeFeed(work, feed.bytes);
  feedDigest = feed.digest;
  writeFileSync(policyFile, JSON.stringify({ policy_version: 1, policy_set: 'prod-default', fix_available_days: { max_days: 30, decision: 'warn' } }));
}, 300_000);

async function scanCli(input: string, outDir: string, extra: string[] = []) {
  const r = await runStella(['scan', input, '--feed', feedFile, '--policy', policyFile, '--out-dir', outDir, '--clock', CLOCK, '--json', ...extra], { env, cwd: work });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { scan_id: string; dir: string; decision: string; findings: number };
  written.push(out.dir);
  return out;
}

const read = (dir: string, rel: string) => JSON.parse(readFileSync(path.join(dir, rel), 'utf8'));
const findingsOf = (dir: string) => read(dir, ARTIFACT_PATHS.findings).findings as Finding[];
const has = (fs: Finding[], id: string, name: string, version: string) =>
  fs.some((f) => (f.vulnerability_id === id || f.aliases.includes(id)) && f.package.name === name && f.package.version === version);

describe('stella scan', () => {
  it('ripgrep Cargo.lock → a complete, valid record with regex 1.5.4 GHSA-m5pq-gvj9-9vr8', async () => {
    const out = await scanCli(LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), path.join(work, 'a'));
    expect(out.scan_id).toMatch(/^scan_[0-9a-f]{16}$/);
    expect(out.dir).toBe(path.join(work, 'a', out.scan_id));
    expect(listFiles(out.dir)).toEqual(['artifacts/findings.json', 'artifacts/sbom.cdx.json', 'artifacts/verdict.json', 'artifacts/vex.openvex.json', 'manifest.json', 'outputs.json']);
    const m = read(out.dir, 'manifest.json') as ScanManifest;
    expect(validateManifest(m)).toMatchObject({ ok: true });
    expect(m).toMatchObject({
      scan_id: out.scan_id,
      created_at: CLOCK,
      input: { type: 'lockfile', layers: [] },
      scanner: { engine: 'stella', flags: [] },
      feeds: { vuln_feed_bundle_digest: feedDigest, license_db_digest: null },
      policy: { policy_set: 'prod-default' },
      environment: { tz: 'UTC', locale: 'C', network: 'disabled', clock_mode: 'frozen', clock_value: CLOCK },
      labels: { ecosystem: 'crates.io', project: 'ripgrep-13.0.0', regulated: false },
    });
    // Every input is in the blob store so a replay can restore it.
    const blobs = new BlobStore(home);
    expect(blobs.get(m.input.digest).equals(readFileSync(LOCK('cargo/ripgrep-13.0.0/Cargo.lock')))).toBe(true);
    expect(blobs.has(m.feeds.vuln_feed_bundle_digest)).toBe(true);
    expect(blobs.has(m.policy.policy_bundle_digest)).toBe(true);
    // outputs.json agrees with the bytes on disk.
    const outputs = read(out.dir, 'outputs.json') as Outputs;
    for (const n of ARTIFACT_NAMES) {
      const bytes = readFileSync(path.join(out.dir, ARTIFACT_PATHS[n]));
      expect(outputs[n]).toMatchObject({ path: ARTIFACT_PATHS[n], schema: ARTIFACT_SCHEMAS[n], bytes: bytes.length });
      expect(outputs[n].canonical_sha256).toBe(canonicalizeArtifact(ARTIFACT_SCHEMAS[n], JSON.parse(bytes.toString('utf8'))).digest);
    }
    expect(has(findingsOf(out.dir), 'GHSA-m5pq-gvj9-9vr8', 'regex', '1.5.4')).toBe(true);
    expect(read(out.dir, ARTIFACT_PATHS.findings).scan_id).toBe(out.scan_id);
  }, 120_000);

  it('finds real vulnerabilities in npm, PyPI and Go inputs (read back from the record)', async () => {
    const cases: Array<[string, string, string, string]> = [
      [LOCK('npm/nodegoat/package-lock.json'), 'GHSA-35jh-r3h4-6jhm', 'lodash', '4.17.11'],
      [LOCK('npm/socket.io/package-lock.json'), 'GHSA-3h5v-q93c-6h6q', 'ws', '7.4.6'],
      [LOCK('python/netbox-v3.0.0/requirements.txt'), 'PYSEC-2021-439', 'Django', '3.2.6'],
      [LOCK('go/cyclonedx-gomod-v1.0.0/go.mod'), 'GO-2021-0113', 'golang.org/x/text', 'v0.3.6'],
      [SBOM('cyclonedx/keycloak-10.0.2.maven.cdx-1.2.json'), 'GHSA-57j2-w4cx-62h2', 'com.fasterxml.jackson.core:jackson-databind', '2.10.1'],
      [SBOM('spdx/kubectl-image.spdx-2.3.json'), 'GO-2023-2102', 'golang.org/x/net', 'v0.13.0'],
    ];
    for (const [input, id, name, version] of cases) {
      const out = await scanCli(input, path.join(work, 'real'));
      expect(has(findingsOf(out.dir), id, name, version), `${path.basename(input)}: ${id} ${name}@${version}`).toBe(true);
      const vex = read(out.dir, ARTIFACT_PATHS.vex) as { statements: Array<{ vulnerability: { name: string; aliases?: string[] }; status: string }> };
      expect(vex.statements.some((s) => (s.vulnerability.name === id || s.vulnerability.aliases?.includes(id)) && s.status === 'affected')).toBe(true);
    }
  }, 180_000);

  it('same inputs twice → same scan id and byte-identical records; a feed digest works like the file', async () => {
    const input = LOCK('npm/socket.io/package-lock.json');
    const a = await scanCli(input, path.join(work, 'det1'));
    const b = await scanCli(input, path.join(work, 'det2'));
    const r = await runStella(['scan', input, '--feed', feedDigest, '--policy', policyFile, '--out-dir', path.join(work, 'det3'), '--clock', CLOCK, '--json'], { env, cwd: work });
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as { scan_id: string; dir: string };
    expect(b.scan_id).toBe(a.scan_id);
    expect(c.scan_id).toBe(a.scan_id);
    const files = listFiles(a.dir);
    expect(listFiles(b.dir)).toEqual(files);
    for (const f of files) {
      expect(readFileSync(path.join(b.dir, f)).equals(readFileSync(path.join(a.dir, f))), f).toBe(true);
      expect(readFileSync(path.join(c.dir, f)).equals(readFileSync(path.join(a.dir, f))), f).toBe(true);
    }
    const oa = read(a.dir, 'outputs.json') as Outputs;
    const ob = read(b.dir, 'outputs.json') as Outputs;
    for (const n of ARTIFACT_NAMES) expect(ob[n].canonical_sha256).toBe(oa[n].canonical_sha256);
  }, 120_000);

  it('a directory input is stored as a tar and the scanner process reproduces the record from the blobs', async () => {
    const dir = LOCK('go');
    const out = await scanCli(dir, path.join(work, 'dir'));
    const m = read(out.dir, 'manifest.json') as ScanManifest;
    expect(m.input.type).toBe('directory');
    expect(m.labels).toMatchObject({ ecosystem: 'Go', project: 'go' });
    const blobs = new BlobStore(home);
    const jobOut = path.join(work, 'entry-out');
    const p = spawnSync(
      process.execPath,
      [
        path.join(REPO, 'dist/src/scanner/entry.js'),
        '--manifest', path.join(out.dir, 'manifest.json'),
        '--input', blobs.pathOf(m.input.digest),
        '--feed', blobs.pathOf(m.feeds.vuln_feed_bundle_digest),
        '--policy', blobs.pathOf(m.policy.policy_bundle_digest),
        '--out', jobOut,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    for (const n of ARTIFACT_NAMES) {
      expect(readFileSync(path.join(jobOut, ARTIFACT_PATHS[n])).equals(readFileSync(path.join(out.dir, ARTIFACT_PATHS[n]))), n).toBe(true);
    }
  }, 120_000);

  it('--executor local and --executor docker run the same scanner: byte-identical artifacts', async () => {
    await requireDocker();
    const input = LOCK('npm/socket.io/package-lock.json');
    const inproc = await scanCli(input, path.join(work, 'ex0'));
    for (const kind of ['local', 'docker']) {
      const out = await scanCli(input, path.join(work, `ex-${kind}`), ['--executor', kind]);
      expect(out.scan_id).toBe(inproc.scan_id);
      for (const n of ARTIFACT_NAMES) {
        expect(readFileSync(path.join(out.dir, ARTIFACT_PATHS[n])).equals(readFileSync(path.join(inproc.dir, ARTIFACT_PATHS[n]))), `${kind} ${n}`).toBe(true);
      }
    }
  }, 600_000);

  it('the scanner process refuses a tampered input with one line and exit 2', async () => {
    const out = await scanCli(LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), path.join(work, 'tamper'));
    const m = read(out.dir, 'manifest.json') as ScanManifest;
    const blobs = new BlobStore(home);
    const fake = path.join(work, 'Cargo.lock');
    writeFileSync(fake, readFileSync(LOCK('cargo/bat-v0.18.0/Cargo.lock')));
    const jobOut = path.join(work, 'tamper-out');
    const p = spawnSync(process.execPath, [
      path.join(REPO, 'dist/src/scanner/entry.js'), '--manifest', path.join(out.dir, 'manifest.json'), '--input', fake,
      '--feed', blobs.pathOf(m.feeds.vuln_feed_bundle_digest), '--policy', blobs.pathOf(m.policy.policy_bundle_digest), '--out', jobOut,
    ], { encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/Cargo\.lock: \$\.input\.digest: input digest is sha256:[0-9a-f]{64} but the manifest pins/);
    expect(existsSync(jobOut)).toBe(false);
  }, 60_000);

  it('the scanner process: usage errors and a manifest that does not validate → one line, exit 2', () => {
    const entry = path.join(REPO, 'dist/src/scanner/entry.js');
    const p = spawnSync(process.execPath, [entry, '--manifest', 'm.json'], { encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/^stella-scanner: missing --input \(usage: entry\.js/);
    const bad = path.join(work, 'bad-manifest.json');
    writeFileSync(bad, JSON.stringify({ manifest_version: '1.0', scan_id: 'scan_x' }));
    const q = spawnSync(process.execPath, [entry, '--manifest', bad, '--input', 'x', '--feed', 'f', '--policy', 'p', '--out', path.join(work, 'never')], { encoding: 'utf8' });
    expect(q.status).toBe(2);
    expect(q.stderr.trim().split('\n')).toHaveLength(1);
    expect(q.stderr).toMatch(/bad-manifest\.json: \$\.created_at: /);
    expect(existsSync(path.join(work, 'never'))).toBe(false);
  });

  it('fault switches are recorded in scanner.flags and change the scan id and config digest', async () => {
    const input = LOCK('cargo/ripgrep-13.0.0/Cargo.lock');
    const plain = await scanCli(input, path.join(work, 'f0'));
    const faulty = await scanCli(input, path.join(work, 'f1'), ['--fault', 'wallclock', '--fault', 'random-ids']);
    const m0 = read(plain.dir, 'manifest.json') as ScanManifest;
    const m1 = read(faulty.dir, 'manifest.json') as ScanManifest;
    expect(m1.scanner.flags).toEqual(['--fault=random-ids', '--fault=wallclock']);
    expect(m1.scanner.config_digest).not.toBe(m0.scanner.config_digest);
    expect(faulty.scan_id).not.toBe(plain.scan_id);
    const sbom = read(faulty.dir, ARTIFACT_PATHS.sbom) as { metadata: { properties: Array<{ name: string }> } };
    expect(sbom.metadata.properties.map((p) => p.name)).toContain('stella:generated_at_wallclock');
    expect(read(faulty.dir, ARTIFACT_PATHS.vex)['@id']).toMatch(/^urn:uuid:/);
    const bad = await runStella(['scan', input, '--feed', feedFile, '--policy', policyFile, '--out-dir', path.join(work, 'f2'), '--fault', 'nope'], { env, cwd: work });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^stella scan: unknown fault switch 'nope'/);
    expect(existsSync(path.join(work, 'f2'))).toBe(false);
  }, 120_000);

  it('prints the scan id and the verdict in text mode', async () => {
    const r = await runStella(['scan', LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), '--feed', feedFile, '--policy', policyFile, '--out-dir', 'txt', '--clock', CLOCK], { env, cwd: work });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^scan_[0-9a-f]{16} (pass|warn|fail) \(56 packages, 1 findings, \d+ reasons\) → txt\/scan_[0-9a-f]{16}\n/);
    expect(r.stdout).toMatch(/CVE-2022-24713 pkg:cargo\/regex@1\.5\.4/);
    written.push(path.join(work, r.stdout.split(' → ')[1].split('\n')[0]));
  }, 60_000);
});

describe('bad input: one line, exit 2, no output directory', () => {
  const expectRefused = async (args: string[], pattern: RegExp, outDir: string) => {
    const r = await runStella(['scan', ...args, '--out-dir', outDir], { env, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(path.join(work, outDir))).toBe(false);
  };
  it('truncated lockfile JSON names the file and the JSON path', async () => {
    mkdirSync(path.join(work, 'trunc'), { recursive: true });
    const f = path.join(work, 'trunc', 'package-lock.json');
    writeFileSync(f, readFileSync(LOCK('npm/socket.io/package-lock.json')).subarray(0, 5000));
    await expectRefused([f, '--feed', feedFile, '--policy', policyFile], /^stella scan: \S*trunc\/package-lock\.json: \$\.packages\["node_modules\/[^"]+"\]\S*: truncated JSON \(unexpected end of input\) at line \d+ column \d+\n$/, 'bad1');
  });
  it('unknown input type', async () => {
    await expectRefused([LOCK('cargo/ripgrep-13.0.0/Cargo.toml'), '--feed', feedFile, '--policy', policyFile], /^stella scan: \S*Cargo\.toml: \$: unknown input type; supported: /, 'bad2');
  });
  it('missing feed digest', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    await expectRefused([LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), '--feed', missing, '--policy', policyFile], /^stella scan: feed bundle sha256:0{64} is not in the blob store; restore it with /, 'bad3');
  });
  it('malformed digest, bad clock, missing input, bad policy', async () => {
    await expectRefused([LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), '--feed', 'sha256:xyz', '--policy', policyFile], /is not a digest/, 'bad4');
    await expectRefused([LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), '--feed', feedFile, '--policy', policyFile, '--clock', 'yesterday'], /--clock 'yesterday' is not an RFC 3339 date-time/, 'bad5');
    await expectRefused([path.join(work, 'nope.lock'), '--feed', feedFile, '--policy', policyFile], /nope\.lock: no such input file or directory/, 'bad6');
    const badPolicy = path.join(work, 'bad-policy.json');
    writeFileSync(badPolicy, '{"policy_version":1,"policy_set":"x","severity_threshold":{"fail":"extreme"}}');
    await expectRefused([LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), '--feed', feedFile, '--policy', badPolicy], /bad-policy\.json: \$\.severity_threshold\.fail: expected one of/, 'bad7');
  });
  it('usage errors', async () => {
    const r = await runStella(['scan', '--feed', feedFile], { env, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stella scan: INPUT is required/);
  });
});

describe('schemas', () => {
  it('every SBOM and VEX document the CLI wrote validates (CycloneDX 1.6, OpenVEX 0.2.0)', () => {
    expect(written.length).toBeGreaterThanOrEqual(10);
    for (const dir of written) {
      expect(validateCycloneDx(read(dir, ARTIFACT_PATHS.sbom), '1.6'), dir).toEqual([]);
      expect(validateOpenVex(read(dir, ARTIFACT_PATHS.vex)), dir).toEqual([]);
    }
  });
});

// The tests above read inputs from the fixture tree: make sure it is the unmodified copy.
it('fixtures are the third-party copy', () => {
  expect(existsSync(path.join(THIRD_PARTY, 'MANIFEST.sha256'))).toBe(true);
});
