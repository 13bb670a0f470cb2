// Canonicalize + hash throughput on a ≥ 50 MB CycloneDX SBOM grown deterministically from the real
// SBOMs in fixtures/, beside `jq -S -c . | sha256sum`, plain `sha256sum` and the JSON.parse+stringify floor.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { hasTool, median, report, shellMs, timeMs } from './lib.js';
import { readBytes } from '../src/adapters/fs.js';
import { canonicalizeArtifactBytes, canonicalizeArtifactBytesViaParse } from '../src/core/canonical/index.js';
import { mulberry32 as prng } from '../src/core/seeded-random.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SBOM_DIR = path.join(REPO, 'fixtures/third_party/sboms/cyclonedx');
const TARGET_BYTES = 50 * 1024 * 1024;
const RUNS = 5;

type Obj = Record<string, unknown>;

/**
 * Copies of every real component (and dependency entry) under a generation suffix, shuffled with a
 * seeded PRNG so the canonicalizer really has to sort, until the document passes TARGET_BYTES.
 */
export function generateSbom(): string {
  const docs = readdirSync(SBOM_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(SBOM_DIR, f), 'utf8')) as Obj);
  const seedComponents = docs.flatMap((d) => (d.components as Obj[] | undefined) ?? []);
  const seedDeps = docs.flatMap((d) => (d.dependencies as Obj[] | undefined) ?? []);
  const perGen = Buffer.byteLength(JSON.stringify(seedComponents)) + Buffer.byteLength(JSON.stringify(seedDeps));
  const generations = Math.ceil((TARGET_BYTES * 1.05) / perGen);
  const rnd = prng(20251212);
  const tag = (s: unknown, g: number) => (typeof s === 'string' ? `${s}-g${g}` : s);
  const components: Obj[] = [];
  const dependencies: Obj[] = [];
  for (let g = 0; g < generations; g++) {
    for (const c of seedComponents) components.push({ ...c, 'bom-ref': tag(c['bom-ref'], g), purl: tag(c.purl, g), version: tag(c.version, g) });
    for (const d of seedDeps) {
      const dependsOn = d.dependsOn as string[] | undefined;
      dependencies.push({ ref: tag(d.ref, g), ...(dependsOn ? { dependsOn: dependsOn.map((r) => `${r}-g${g}`) } : {}) });
    }
  }
  for (const list of [components, dependencies]) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
  }
  const base = docs.find((d) => d.specVersion === '1.6') as Obj;
  return JSON.stringify({ ...base, components, dependencies, vulnerabilities: base.vulnerabilities ?? [] }, null, 2);
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-bench-canon-'));
  try {
    const file = path.join(dir, 'big.cdx.json');
    writeFileSync(file, generateSbom());
    const bytes = statSync(file).size;
    const mb = bytes / (1024 * 1024);
    if (bytes < TARGET_BYTES) throw new Error(`generated SBOM is only ${mb.toFixed(1)} MiB`);
    process.stdout.write(`  input: ${path.basename(file)} ${mb.toFixed(1)} MiB (MB/s below = MiB/s), median of ${RUNS} runs\n`);

    let digest = '';
    let viaParseDigest = '';
    // `stella canon`'s path: the one-pass writer over the bytes (src/core/canonical/bytes.ts).
    const ours = await sample(() => {
      digest = canonicalizeArtifactBytes('auto', readBytes(file), file).digest;
    });
    // The previous path, still the oracle and the error path: parse → normalize → JSON.stringify.
    const viaParse = await sample(() => {
      viaParseDigest = canonicalizeArtifactBytesViaParse('auto', readBytes(file), file).digest;
    });
    if (digest !== viaParseDigest) throw new Error(`one-pass digest ${digest} differs from the parse path's ${viaParseDigest}`);
    const floor = await sample(() => {
      JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
    });
    const raw = await sample(() => {
      createHash('sha256').update(readFileSync(file)).digest('hex');
    });
    process.stdout.write(`  canonical hash ${digest}\n`);
    report({ bench: 'canon', what: 'canonicalize+hash (read, one pass, sha256)', value: mb / (ours / 1000), unit: 'MB/s', better: 'higher', baseline: { tool: 'JSON.parse+stringify floor', value: mb / (floor / 1000) } });
    report({ bench: 'canon', what: 'canonicalize+hash', value: mb / (ours / 1000), unit: 'MB/s', better: 'higher', baseline: { tool: 'parse → normalize → stringify (oracle)', value: mb / (viaParse / 1000) } });
    if (!hasTool('jq')) throw new Error('jq is not installed: the jq baseline cannot be measured');
    const jq = median(Array.from({ length: 3 }, () => shellMs(`jq -S -c . '${file}' | sha256sum`)));
    report({ bench: 'canon', what: 'canonicalize+hash', value: mb / (ours / 1000), unit: 'MB/s', better: 'higher', baseline: { tool: 'jq -S -c . | sha256sum', value: mb / (jq / 1000) }, target: '≥ 3×' });
    const sha = median(Array.from({ length: RUNS }, () => shellMs(`sha256sum '${file}'`)));
    report({ bench: 'canon', what: 'canonicalize+hash', value: mb / (ours / 1000), unit: 'MB/s', better: 'higher', baseline: { tool: 'sha256sum (raw bytes)', value: mb / (sha / 1000) } });
    report({ bench: 'canon', what: 'raw sha256 in-process (readFile+hash)', value: mb / (raw / 1000), unit: 'MB/s', better: 'higher', baseline: { tool: 'sha256sum (raw bytes)', value: mb / (sha / 1000) } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sample(fn: () => void): Promise<number> {
  await timeMs(fn); // warm-up: JIT and page cache
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timeMs(fn));
  return median(times);
}
