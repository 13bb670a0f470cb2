// `stella scan` throughput: a ≥ 10,000-package CycloneDX SBOM grown deterministically from the real
// SBOMs in fixtures/, against a feed bundle of ALL of fixtures/third_party/osv. Figure: packages/s of
// the whole command (parse, match, emit, hash, write the record), beside `jq -r '.components[].purl'`
// on the same file — the floor for merely reading the input.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hasTool, median, report, shellMs } from './lib.js';
import { buildFeedBundle, openFeedBundle } from '../src/app/feed.js';
import { bundlePolicy } from '../src/app/policy.js';
import { buildManifest, computeOutputs, dominantEcosystem } from '../src/app/scan.js';
import { parseInputFile } from '../src/scanner/inputs/index.js';
import { runScan, serializeArtifacts } from '../src/scanner/run.js';
import { compareCodeUnits } from '../src/core/canonical/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SBOM_DIR = path.join(REPO, 'fixtures/third_party/sboms/cyclonedx');
const OSV_DIR = path.join(REPO, 'fixtures/third_party/osv');
const STELLA = path.join(REPO, 'dist/bin/stella.js');
const TARGET_PACKAGES = 10_000;
const RUNS = 3;
const CLOCK = '2025-12-12T10:15:30Z';

type Obj = Record<string, unknown>;

/**
 * Every real component with a purl, then further generations of the same packages at pre-release /
 * post-release versions (`1.2.3-g1`: still compared against every OSV range of that package, so the
 * matcher does real work), until there are TARGET_PACKAGES distinct purls.
 */
export function generateSbom(): { json: string; packages: number } {
  const base: Array<{ name: string; version: string; purl: string }> = [];
  const seen = new Set<string>();
  for (const f of readdirSync(SBOM_DIR).filter((x) => x.endsWith('.json')).sort(compareCodeUnits)) {
    const doc = JSON.parse(readFileSync(path.join(SBOM_DIR, f), 'utf8')) as { components?: Obj[] };
    for (const c of doc.components ?? []) {
      const purl = c.purl;
      if (typeof purl !== 'string' || typeof c.version !== 'string' || !purl.includes('@') || seen.has(purl)) continue;
      seen.add(purl);
      base.push({ name: String(c.name), version: c.version, purl });
    }
  }
  const components: Obj[] = [];
  for (let gen = 0; components.length < TARGET_PACKAGES; gen++) {
    for (const b of base) {
      if (components.length >= TARGET_PACKAGES) break;
      const version = gen === 0 ? b.version : `${b.version}-g${gen}`;
      const at = b.purl.lastIndexOf('@');
      const q = b.purl.indexOf('?', at);
      const purl = `${b.purl.slice(0, at)}@${encodeURIComponent(version)}${q >= 0 ? b.purl.slice(q) : ''}`;
      components.push({ type: 'library', 'bom-ref': purl, name: b.name, version, purl });
    }
  }
  const doc = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components };
  return { json: JSON.stringify(doc), packages: components.length };
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-bench-scan-'));
  try {
    const { json, packages } = generateSbom();
    const sbom = path.join(dir, 'big.cdx.json');
    writeFileSync(sbom, json);
    const feed = await buildFeedBundle(OSV_DIR, { generatedAt: CLOCK });
    const feedFile = path.join(dir, 'feed.tar.zst');
    writeFileSync(feedFile, feed.bytes);
    const policyFile = path.join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ policy_version: 1, policy_set: 'bench' }));
    const env = { ...process.env, STELLA_HOME: path.join(dir, 'home'), TZ: 'UTC', LC_ALL: 'C' };
    const run = (i: number): { ms: number; stdout: string } => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [STELLA, 'scan', sbom, '--feed', feedFile, '--policy', policyFile, '--out-dir', path.join(dir, `out${i}`), '--clock', CLOCK, '--json'], {
        env,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`stella scan failed: ${r.stderr}`);
      return { ms, stdout: r.stdout };
    };
    // Warm-up: stores the feed and computes the scanner image id once (both cached in STELLA_HOME).
    const first = JSON.parse(run(0).stdout) as { packages: number; findings: number };
    const times = Array.from({ length: RUNS }, (_, i) => run(i + 1).ms);
    const ms = median(times);
    process.stdout.write(`  input: ${packages} components (${(json.length / 1e6).toFixed(1)} MB), ${first.packages} scanned, ${first.findings} findings; feed: ${OSV_DIR} (all records)\n`);
    const jqMs = hasTool('jq') ? median(Array.from({ length: RUNS }, () => shellMs(`jq -r '.components[].purl' '${sbom}' > /dev/null`))) : NaN;
    report({
      bench: 'scan',
      what: `stella scan, ${packages} packages vs all OSV fixtures`,
      value: packages / (ms / 1000),
      unit: 'pkg/s',
      ...(Number.isFinite(jqMs) ? { baseline: { tool: "jq -r '.components[].purl'", value: packages / (jqMs / 1000) } } : {}),
      better: 'higher',
    });
    // The scanner proper, in process: parse + match + emit + serialize + canonical hashes (no process
    // start, no feed decompression, no record writing) — where the scanner's own time goes.
    const bundle = await openFeedBundle(feed.bytes, { expectedDigest: feed.digest });
    const policy = bundlePolicy({ policy_version: 1, policy_set: 'bench' });
    const bytes = readFileSync(sbom);
    const inner = (): number => {
      const t0 = performance.now();
      const input = parseInputFile({ name: sbom, bytes });
      const manifest = buildManifest({
        input: { type: input.type, ref: 'big.cdx.json', digest: feed.digest },
        scannerImageDigest: feed.digest,
        scannerVersion: '0.1.0',
        faults: [],
        feedDigest: feed.digest,
        policyDigest: policy.digest,
        policySet: 'bench',
        clock: { value: CLOCK, mode: 'frozen' },
        environment: { arch: 'amd64', os: 'linux', tz: 'UTC', locale: 'C', cpus: 1 },
        labels: { ecosystem: dominantEcosystem(input.packages), base_os: '', regulated: false, project: 'bench' },
      });
      computeOutputs(serializeArtifacts(runScan({ packages: input.packages, records: bundle.records, policy: policy.policy, manifest, faults: [] })));
      return performance.now() - t0;
    };
    inner();
    const innerMs = median(Array.from({ length: RUNS }, inner));
    report({
      bench: 'scan',
      what: `runScan in process (parse→match→emit→hash)`,
      value: packages / (innerMs / 1000),
      unit: 'pkg/s',
      ...(Number.isFinite(jqMs) ? { baseline: { tool: "jq -r '.components[].purl'", value: packages / (jqMs / 1000) } } : {}),
      better: 'higher',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
