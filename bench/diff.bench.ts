// `stella diff` on pairs of 10,000-, 50,000- and 200,000-component scans derived deterministically from
// the real SBOMs in fixtures/ (1% of versions changed, 0.5% of components removed and 0.5% added,
// every object's keys shuffled, component order shuffled), beside diffoscope on the same pair and
// beside merely reading + parsing both scans, with the cost per component of each so the scaling
// shows. diffoscope is stopped after STELLA_BENCH_DIFFOSCOPE_TIMEOUT_S (default 240 s) and then
// printed as a lower bound ("> N"); STELLA_BENCH_DIFF_SIZES=10000 runs one size. Also checks that the text report names every changed package.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool, median, report, timeMs } from './lib.js';
import { canonicalizeArtifact } from '../src/core/canonical/index.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, ARTIFACT_SCHEMAS, type Outputs, type ScanManifest } from '../src/core/formats.js';
import { compareDirs } from '../src/app/compare.js';
import { packageKey } from '../src/core/diff/index.js';
import { mulberry32 as prng, shuffled as shuffle } from '../src/core/seeded-random.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SBOM_DIR = path.join(REPO, 'fixtures/third_party/sboms/cyclonedx');
const STELLA = path.join(REPO, 'dist/bin/stella.js');
const SIZES = (process.env.STELLA_BENCH_DIFF_SIZES ?? '10000,50000,200000').split(',').map(Number);
const DIFFOSCOPE_TIMEOUT_S = Number(process.env.STELLA_BENCH_DIFFOSCOPE_TIMEOUT_S ?? 240);

type Obj = Record<string, unknown>;

const shuffleKeys = (v: unknown, rnd: () => number): unknown =>
  Array.isArray(v) ? v.map((x) => shuffleKeys(x, rnd)) : v && typeof v === 'object' ? Object.fromEntries(shuffle(Object.keys(v), rnd).map((k) => [k, shuffleKeys((v as Obj)[k], rnd)])) : v;

/** Copies of every real component under a generation suffix (so identities stay unique): `count` of them. */
function baseComponents(count: number): Obj[] {
  const seed = readdirSync(SBOM_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => ((JSON.parse(readFileSync(path.join(SBOM_DIR, f), 'utf8')) as Obj).components as Obj[] | undefined) ?? [])
    .filter((c) => typeof c.purl === 'string' && typeof c.name === 'string');
  const out: Obj[] = [];
  for (let g = 0; out.length < count; g++) {
    for (const c of seed) {
      if (out.length >= count) break;
      const purl = String(c.purl).split(/[?#]/)[0];
      const at = purl.lastIndexOf('@');
      const base = at > purl.lastIndexOf('/') ? purl.slice(0, at) : purl;
      const name = `${c.name}-g${g}`;
      out.push({ ...c, name, 'bom-ref': `${c['bom-ref'] ?? base}-g${g}`, purl: `${base}-g${g}@${c.version ?? '0'}` });
    }
  }
  return out;
}

interface Pair {
  a: string;
  b: string;
  changedKeys: string[];
  components: number;
}

function writeRecord(dir: string, scanId: string, sbom: Obj, sbomText: string, replayOf: string | null): void {
  const docs: Record<string, unknown> = {
    sbom,
    findings: { schema: 'stella-findings/v1', scan_id: scanId, findings: [] },
    vex: { '@context': 'https://openvex.dev/ns/v0.2.0', '@id': `https://openvex.dev/docs/stella/vex-${scanId}`, author: 'stella', timestamp: '2025-12-12T10:15:30Z', version: 1, statements: [] },
    verdict: { schema: 'stella-verdict/v1', decision: 'pass', reasons: [], policy_set: 'prod-default', evaluated_at: '2025-12-12T10:15:30Z' },
  };
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  const outputs = {} as Outputs;
  for (const name of ARTIFACT_NAMES) {
    const text = name === 'sbom' ? sbomText : JSON.stringify(docs[name], null, 2);
    writeFileSync(path.join(dir, ARTIFACT_PATHS[name]), text);
    const schema = ARTIFACT_SCHEMAS[name];
    outputs[name] = { path: ARTIFACT_PATHS[name], canonical_sha256: canonicalizeArtifact(schema, docs[name]).digest, raw_sha256: `sha256:${createHash('sha256').update(text).digest('hex')}`, schema, bytes: Buffer.byteLength(text) };
  }
  writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(outputs, null, 2));
  const d = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}` as const;
  const manifest: ScanManifest = {
    manifest_version: '1.0', scan_id: scanId, created_at: '2025-12-12T10:15:30Z',
    input: { type: 'sbom', ref: 'bench.cdx.json', digest: d('bench'), layers: [], source_provenance: { repo_sha: 'bench', build_id: 'bench' } },
    scanner: { engine: 'stella', scanner_image_digest: d('image'), scanner_version: '0.1.0', config_digest: d('config'), flags: [] },
    feeds: { vuln_feed_bundle_digest: d('feed'), license_db_digest: null },
    policy: { policy_bundle_digest: d('policy'), policy_set: 'prod-default' },
    environment: { arch: 'amd64', os: 'linux', tz: 'UTC', locale: 'C', network: 'disabled', clock_mode: 'frozen', clock_value: '2025-12-12T10:15:30Z', cpus: 2 },
    normalization: { canonicalizer_version: '1.0.0', sbom_schema: 'cyclonedx-1.6', vex_schema: 'openvex-0.2.0' },
    labels: { ecosystem: 'mixed', base_os: 'none', regulated: false, project: 'bench' },
  };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  if (replayOf) {
    writeFileSync(path.join(dir, 'replay.json'), JSON.stringify({ replay_id: 'rpl_bench', original_scan_id: replayOf, manifest_sha256: d('m'), mode: 'pinned', executor: { kind: 'local', image_digest: null, network: 'none', read_only: false, user: 'bench', tz: 'UTC', locale: 'C', clock_mode: 'frozen', clock_value: '2025-12-12T10:15:30Z', cpus: 2, arch: 'amd64', os: 'linux', kernel: 'bench', engine_version: null, assurance: 'low' }, started_at: '2025-12-12T11:00:00Z', finished_at: '2025-12-12T11:00:01Z', status: 'failed', bf_match: false, sf_match: null, pf_match: null, artifacts: {}, mismatch_reason: null, subtags: [], diff_summary: null }, null, 2));
  }
}

export function generatePair(root: string, count = 50_000): Pair {
  const rnd = prng(20251212);
  const base = baseComponents(count);
  const header = JSON.parse(readFileSync(path.join(SBOM_DIR, 'juice-shop-14.1.1.npm.cdx-1.6.json'), 'utf8')) as Obj;
  const sbomA: Obj = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: header.metadata, components: base };
  const changedKeys = new Set<string>();
  const bComps: Obj[] = [];
  for (const c of base) {
    const r = rnd();
    if (r < 0.005) {
      changedKeys.add(packageKey(c)); // removed
      continue;
    }
    if (r < 0.015) {
      const version = `${c.version ?? '0'}.1`;
      bComps.push({ ...c, version, purl: String(c.purl).replace(/@[^@]*$/, `@${version}`) });
      changedKeys.add(packageKey(c));
      continue;
    }
    bComps.push(c);
  }
  const added = Math.round(base.length * 0.005);
  for (let i = 0; i < added; i++) {
    const c = { type: 'library', name: `bench-added-${i}`, version: '1.0.0', purl: `pkg:npm/bench-added-${i}@1.0.0`, 'bom-ref': `bench-added-${i}` };
    bComps.push(c);
    changedKeys.add(packageKey(c));
  }
  const sbomB = shuffleKeys({ ...sbomA, components: shuffle(bComps, rnd) }, rnd) as Obj;
  const a = path.join(root, 'scan_bench');
  const b = path.join(root, 'rpl_bench');
  writeRecord(a, 'scan_bench', sbomA, JSON.stringify(sbomA, null, 2), null);
  writeRecord(b, 'scan_bench', sbomB, JSON.stringify(sbomB, null, 2), 'scan_bench');
  return { a, b, changedKeys: [...changedKeys].sort(), components: base.length };
}

function run(cmd: string, args: string[], okCodes: number[], timeoutMs?: number): { ms: number; stdout: string; timedOut: boolean } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1' }, ...(timeoutMs ? { timeout: timeoutMs, killSignal: 'SIGKILL' as const } : {}) });
  const ms = performance.now() - t0;
  const timedOut = timeoutMs !== undefined && r.status === null && r.signal === 'SIGKILL' && ms >= timeoutMs * 0.99;
  if (timedOut) return { ms: timeoutMs, stdout: '', timedOut };
  if (r.status === null || !okCodes.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.slice(0, 400)}`);
  return { ms, stdout: r.stdout, timedOut };
}

export default async function (): Promise<void> {
  if (!hasTool('diffoscope')) throw new Error('diffoscope is not installed (apt-get install -y diffoscope-minimal): the baseline cannot be measured');
  for (const size of SIZES) await benchSize(size);
}

async function benchSize(size: number): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'stella-bench-diff-'));
  const k = `${size / 1000}k`;
  try {
    const pair = generatePair(root, size);
    process.stdout.write(`  input: two scans of ${pair.components} components, ${pair.changedKeys.length} packages changed/added/removed, keys + order shuffled\n`);

    // Correctness first: the text report names every changed package.
    const text = run(process.execPath, [STELLA, 'diff', '--a', pair.a, '--b', pair.b, '--mode', 'sf'], [1]).stdout;
    const named = new Set(text.split('\n').map((l) => /^ {2}[+~-] (\S+)/.exec(l)?.[1]).filter(Boolean));
    const missing = pair.changedKeys.filter((key) => !named.has(key));
    if (missing.length) throw new Error(`report misses ${missing.length} changed packages, e.g. ${missing.slice(0, 3).join(', ')}`);
    process.stdout.write(`  check: the report names all ${pair.changedKeys.length} changed packages\n`);

    const runs = size >= 200_000 ? 1 : 3;
    const cli = median(Array.from({ length: runs }, () => run(process.execPath, [STELLA, 'diff', '--a', pair.a, '--b', pair.b, '--mode', 'sf', '--json'], [1]).ms));
    await timeMs(() => compareDirs(pair.a, pair.b)); // warm-up
    const inProc: number[] = [];
    for (let i = 0; i < runs; i++) inProc.push(await timeMs(() => compareDirs(pair.a, pair.b)));
    const parse: number[] = [];
    // Both scans parsed and held at once, as any comparison must hold them.
    const parseBoth = () => [pair.a, pair.b].map((dir) => ARTIFACT_NAMES.map((n) => JSON.parse(readFileSync(path.join(dir, ARTIFACT_PATHS[n]), 'utf8')) as unknown));
    parseBoth();
    for (let i = 0; i < runs; i++) parse.push(await timeMs(parseBoth));

    report({ bench: 'diff', what: `compare two ${k} scans in-process (load+BF+SF+PF+classify)`, value: median(inProc), unit: 'ms', better: 'lower', baseline: { tool: 'read+JSON.parse both scans', value: median(parse) }, ...(size === 50_000 ? { target: '≥ 0.5× (within 2× of parsing)' } : {}) });
    const d = run('diffoscope', ['--text', '/dev/null', '--no-progress', pair.a, pair.b], [0, 1], DIFFOSCOPE_TIMEOUT_S * 1000);
    const diffoscope = { tool: d.timedOut ? `diffoscope (stopped at ${DIFFOSCOPE_TIMEOUT_S} s)` : 'diffoscope (same pair)', value: d.ms, atLeast: d.timedOut };
    report({ bench: 'diff', what: `\`stella diff --mode sf --json\` ${k} (CLI, wall)`, value: cli, unit: 'ms', better: 'lower', baseline: diffoscope, target: '≥ 20×' });
    report({ bench: 'diff', what: `  per component (${k})`, value: (cli * 1000) / size, unit: 'µs', better: 'lower', baseline: { ...diffoscope, value: (d.ms * 1000) / size } });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
