// Matcher throughput: ≥ 10,000 packages grown deterministically from the real SBOMs and lockfiles in
// fixtures/ (every npm/PyPI/Go/Maven/crates component, repeated with version variants so ranges are
// really evaluated) against ALL the OSV records in fixtures/third_party/osv/. Baseline, same run: the
// naive nested loop a first attempt would write — every package × every record × every affected
// entry, name equality and a string-equality check of the version against `versions` and event values.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { median, report, timeMs } from './lib.js';
import { buildMatchIndex, matchWithIndex } from '../src/scanner/match.js';
import { ecosystemOfPurl, parsePurl, purlFor } from '../src/scanner/purl.js';
import type { OsvRecord, OsvRecordEntry, ScanPackage } from '../src/scanner/types.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const THIRD_PARTY = path.join(REPO, 'fixtures/third_party');
const TARGET_PACKAGES = 10_000;
const RUNS = 5;
const ECOSYSTEMS = new Set(['npm', 'PyPI', 'Go', 'Maven', 'crates.io']);

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = path.join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

function loadRecords(): OsvRecordEntry[] {
  return ['go', 'pypi', 'ghsa']
    .flatMap((d) => walk(path.join(THIRD_PARTY, 'osv', d)))
    .filter((f) => /\.(json|yaml)$/.test(f))
    .map((f) => {
      const bytes = readFileSync(f);
      const text = bytes.toString('utf8');
      // failsafe schema: YAML scalars stay strings (`0.10` is a version, not the number 0.1).
      const record = (f.endsWith('.yaml') ? YAML.parse(text, { schema: 'failsafe' }) : JSON.parse(text)) as OsvRecord;
      return { path: path.relative(THIRD_PARTY, f), sha256: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, record };
    });
}

function make(ecosystem: string, name: string, version: string, location: string): ScanPackage {
  return { ecosystem, name, version, purl: purlFor(ecosystem, name, version), location };
}

/** The real packages: purls of every SBOM, plus the npm/PyPI/Go/cargo lockfiles. */
function seedPackages(): ScanPackage[] {
  const out: ScanPackage[] = [];
  const add = (p: ScanPackage | null) => {
    if (p && ECOSYSTEMS.has(p.ecosystem)) out.push(p);
  };
  const fromPurl = (purl: string, where: string) => {
    try {
      const p = parsePurl(purl);
      const eco = ecosystemOfPurl(p);
      add(eco && p.version ? make(eco.ecosystem, eco.name, p.version, where) : null);
    } catch {
      // A purl the spec does not allow is the input parser's business; the bench just skips it.
    }
  };
  for (const f of walk(path.join(THIRD_PARTY, 'sboms'))) {
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { components?: unknown[]; packages?: unknown[] };
    const visit = (list: unknown) => {
      for (const c of (Array.isArray(list) ? list : []) as Array<{ purl?: string; components?: unknown }>) {
        if (typeof c.purl === 'string') fromPurl(c.purl, f);
        visit(c.components);
      }
    };
    visit(doc.components);
    for (const p of (doc.packages ?? []) as Array<{ externalRefs?: Array<{ referenceType?: string; referenceLocator?: string }> }>) {
      for (const r of p.externalRefs ?? []) if (r.referenceType === 'purl' && r.referenceLocator) fromPurl(r.referenceLocator, f);
    }
  }
  for (const f of walk(path.join(THIRD_PARTY, 'lockfiles'))) {
    const text = readFileSync(f, 'utf8');
    const base = path.basename(f);
    if (base === 'package-lock.json') {
      const doc = JSON.parse(text) as { packages?: Record<string, { version?: string; link?: boolean; name?: string }> };
      for (const [k, v] of Object.entries(doc.packages ?? {})) {
        if (!k.includes('node_modules/') || !v.version || v.link) continue;
        add(make('npm', v.name ?? k.slice(k.lastIndexOf('node_modules/') + 13), v.version, f));
      }
    } else if (base === 'requirements.txt') {
      for (const m of text.matchAll(/^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)/gm)) add(make('PyPI', m[1], m[2], f));
    } else if (base === 'go.mod') {
      for (const m of text.matchAll(/^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]+\/\S+)\s+(v\S+)/gm)) add(make('Go', m[1], m[2], f));
    } else if (base === 'Cargo.lock') {
      for (const m of text.matchAll(/\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"/g)) add(make('crates.io', m[1], m[2], f));
    }
  }
  return out;
}

/** Generation g of a version: its last number raised by g (`4.17.20` → `4.17.22` for g = 2). */
function variant(version: string, g: number): string {
  if (g === 0) return version;
  return version.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + g));
}

export function generatePackages(): ScanPackage[] {
  const seed = seedPackages();
  const out: ScanPackage[] = [];
  for (let g = 0; out.length < TARGET_PACKAGES; g++) {
    for (const p of seed) out.push(make(p.ecosystem, p.name, variant(p.version, g), p.location));
  }
  return out;
}

/** The baseline: a nested loop with string equality only (no index, no version order, no merging). */
function naive(packages: ScanPackage[], records: OsvRecordEntry[]): number {
  let hits = 0;
  for (const p of packages) {
    for (const { record } of records) {
      if (record.withdrawn !== undefined) continue;
      for (const a of record.affected ?? []) {
        if (!a.package || a.package.ecosystem !== p.ecosystem || a.package.name !== p.name) continue;
        const listed = (a.versions ?? []).includes(p.version);
        const inEvents = (a.ranges ?? []).some((r) => r.events.some((e) => e.introduced === p.version || e.last_affected === p.version));
        if (listed || inEvents) hits++;
      }
    }
  }
  return hits;
}

export default async function (): Promise<void> {
  const records = loadRecords();
  const packages = generatePackages();
  if (packages.length < TARGET_PACKAGES) throw new Error(`only ${packages.length} packages generated`);
  const unique = new Set(packages.map((p) => p.purl)).size;
  process.stdout.write(`  input: ${packages.length} packages (${unique} distinct purls) × ${records.length} OSV records, median of ${RUNS} runs\n`);

  let findings = 0;
  const ours = await sample(() => {
    findings = matchWithIndex(packages, buildMatchIndex(records)).length;
  });
  let naiveHits = 0;
  const base = await sample(() => {
    naiveHits = naive(packages, records);
  });
  process.stdout.write(`  matcher findings: ${findings}; naive string-equality hits: ${naiveHits}\n`);
  report({
    bench: 'match',
    what: 'match (index + ranges + alias merge)',
    value: packages.length / (ours / 1000),
    unit: 'pkg/s',
    better: 'higher',
    baseline: { tool: 'naive nested loop (string equality)', value: packages.length / (base / 1000) },
  });
}

async function sample(fn: () => void): Promise<number> {
  await timeMs(fn); // warm-up: JIT
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timeMs(fn));
  return median(times);
}
