// Fuzz suite (issue 14): every parser the product runs on untrusted bytes, fed seeded, bounded
// fast-check inputs — byte mutations of real third-party documents plus structure-aware documents.
// Each input must be accepted or refused with a StellaError (one line, file + path); no other
// exception, and no single input over 5 s. The tries and outcomes are printed per format.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isStellaError } from '../../src/core/errors.js';
import { parseJsonBytes } from '../../src/core/json/parse.js';
import { parseManifest } from '../../src/core/manifest/validate.js';
import { readOutputs, readReplayFile } from '../../src/app/record.js';
import { parseInputFile } from '../../src/scanner/inputs/index.js';
import { isOsvRecord } from '../../src/core/feed/bundle.js';
import { parseOsvYaml } from '../../src/app/osv-yaml.js';
import { parsePolicyText } from '../../src/app/policy.js';
import { compilePolicy } from '../../src/core/policy/policy.js';
import { packTar, unpackTar } from '../../src/adapters/tar.js';
import { zstdCompress, zstdDecompress } from '../../src/adapters/zstd.js';
import { REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRecord } from '../../bench/gen-records.js';

export const FUZZ_SEED = 1414;
export const RUNS = 2000;
const HANG_MS = 5000;
const SEED_MAX = 6 * 1024;
const dir = tempDir('stella-fuzz-');
mkdirSync(dir, { recursive: true });

const seed = (rel: string) => readFileSync(path.join(REPO, rel)).subarray(0, SEED_MAX);
const tp = (rel: string) => seed(path.join('fixtures/third_party', rel));

/** Byte-level mutations of a seed: flips, inserts, deletions, truncation, duplicated spans. */
function mutated(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 256 }) }),
  );
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([i, edits]) => {
    let b = Buffer.from(seeds[i]!);
    for (const e of edits) {
      const at = b.length ? e.at % (b.length + 1) : 0;
      if (e.op === 'set' && b.length) b[at % b.length] = e.byte;
      else if (e.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
      else if (e.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
      else if (e.op === 'cut') b = b.subarray(0, at);
      else if (e.op === 'dup') b = Buffer.concat([b.subarray(0, at + e.n), b.subarray(at)]);
    }
    return b;
  });
}

/** Well-formed JSON with the format's markers and arbitrary content (deep, odd keys, big numbers). */
function shaped(markers: Record<string, unknown>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 6 }), { maxKeys: 8 }), fc.jsonValue({ maxDepth: 8 }))
    .map(([extra, any]) => Buffer.from(JSON.stringify({ ...extra, ...markers, components: any, packages: any, affected: any, rules: any }), 'utf8'));
}

interface Tally {
  accepted: number;
  refused: number;
  slowestMs: number;
}

function fuzz(name: string, arb: fc.Arbitrary<Buffer>, parse: (b: Buffer) => unknown | Promise<unknown>): void {
  it(`${name}: ${RUNS} inputs, accepted or refused with a StellaError, none over ${HANG_MS / 1000} s`, { timeout: 120_000 }, async () => {
    const t: Tally = { accepted: 0, refused: 0, slowestMs: 0 };
    await fc.assert(
      fc.asyncProperty(arb, async (bytes) => {
        const t0 = performance.now();
        try {
          await parse(bytes);
          t.accepted++;
        } catch (e) {
          if (!isStellaError(e)) throw new Error(`${name}: not a StellaError: ${(e as Error)?.stack ?? String(e)}`);
          // One line naming where: file (and JSON path where it applies).
          expect(e.oneLine()).not.toContain('\n');
          t.refused++;
        }
        const ms = performance.now() - t0;
        t.slowestMs = Math.max(t.slowestMs, ms);
        expect(ms, `${name}: one input took ${ms.toFixed(0)} ms`).toBeLessThan(HANG_MS);
      }),
      { seed: FUZZ_SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(`fuzz ${name}: ${RUNS} tries, ${t.accepted} accepted, ${t.refused} refused, 0 crashes, 0 hangs, slowest ${t.slowestMs.toFixed(1)} ms`);
    expect(t.accepted + t.refused).toBe(RUNS);
  });
}

const json = (b: Buffer) => parseJsonBytes(b, 'fuzz.json');
const manifestSeed = seed('fixtures/manifests/example.manifest.json');
const rec = makeRecord({ i: 1, finishedAt: '2026-01-10T10:00:00Z', outcome: 'failed', cause: 'feed_drift', prefix: 'fuzz' });
const replaySeed = Buffer.from(JSON.stringify(rec.replay, null, 2));
const outputsSeed = seed('fixtures/canaries/pypi-netbox/outputs.json');
let fileNo = 0;
const viaFile = (name: string, read: (f: string) => unknown) => (b: Buffer) => {
  const f = path.join(dir, `${fileNo++ % 8}-${name}`);
  writeFileSync(f, b);
  return read(f);
};
const input = (name: string) => (b: Buffer) => parseInputFile({ name, bytes: b });

describe('fuzz: JSON documents', () => {
  fuzz('JSON reader', fc.oneof(mutated([manifestSeed, replaySeed, tp('sboms/cyclonedx/laravel-7.12.0.composer.cdx-1.4.json')]), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)))), json);
  fuzz('manifest', fc.oneof(mutated([manifestSeed]), shaped({ manifest_version: '1.0' })), (b) => parseManifest(b, 'manifest.json'));
  fuzz('replay.json', fc.oneof(mutated([replaySeed]), shaped({ replay_id: 'rpl_0', original_scan_id: 'x', mode: 'pinned', executor: {} })), viaFile('replay.json', readReplayFile));
  fuzz('outputs.json', fc.oneof(mutated([outputsSeed]), shaped({})), viaFile('outputs.json', readOutputs));
  fuzz('OSV record (JSON)', fc.oneof(mutated([tp('osv/ghsa/GHSA-29mw-wpgm-hmr9.json'), tp('osv/ghsa/GHSA-35jh-r3h4-6jhm.json')]), shaped({ id: 'GHSA-x', modified: '2024-01-01T00:00:00Z' })), (b) => isOsvRecord(json(b)));
});

describe('fuzz: SBOMs and lockfiles', () => {
  fuzz('CycloneDX', fc.oneof(mutated([tp('sboms/cyclonedx/laravel-7.12.0.composer.cdx-1.4.json'), tp('sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json')]), shaped({ bomFormat: 'CycloneDX', specVersion: '1.6' })), input('bom.cdx.json'));
  fuzz('SPDX', fc.oneof(mutated([tp('sboms/spdx/alpine-image.spdx-2.2.json')]), shaped({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT' })), input('sbom.spdx.json'));
  fuzz('package-lock.json', fc.oneof(mutated([tp('lockfiles/npm/nodegoat/package-lock.json')]), shaped({ lockfileVersion: 2 })), input('package-lock.json'));
  fuzz('poetry.lock', mutated([tp('lockfiles/python/poetry-1.1.0/poetry.lock')]), input('poetry.lock'));
  fuzz('requirements.txt', mutated([tp('lockfiles/python/netbox-v3.0.0/requirements.txt')]), input('requirements.txt'));
  fuzz('go.mod', mutated([tp('lockfiles/go/node_exporter-v1.0.0/go.mod')]), input('go.mod'));
  fuzz('Cargo.lock', mutated([tp('lockfiles/cargo/ripgrep-13.0.0/Cargo.lock')]), input('Cargo.lock'));
});

describe('fuzz: YAML', () => {
  const yamlSeeds = [seed('fixtures/policies/prod-default.yaml'), seed('fixtures/policies/lenient.yaml')];
  fuzz('policy YAML', mutated(yamlSeeds), (b) => compilePolicy(parsePolicyText(b, 'policy.yaml'), 'policy.yaml'));
  const osvYaml = Buffer.from('id: PYSEC-2021-1\nmodified: 2021-01-01T00:00:00Z\naffected:\n  - package:\n      name: x\n      ecosystem: PyPI\n    versions: ["1.0"]\n');
  fuzz('OSV record (YAML)', mutated([osvYaml]), (b) => parseOsvYaml(b.toString('utf8'), 'x.yaml'));
});

describe('fuzz: archives', async () => {
  const tar = packTar([
    { path: 'feed_bundle_manifest.json', data: Buffer.from('{"bundle_format":1}') },
    { path: 'feeds/go/Go/GO-1.json', data: Buffer.from('{"id":"GO-1","modified":"2024-01-01T00:00:00Z"}') },
  ]);
  fuzz('tar', mutated([tar]), (b) => unpackTar(b, { maxBytes: 1 << 20, maxEntries: 1000, file: 'x.tar' }));
  const zst = await zstdCompress(tar);
  fuzz('zstd', mutated([zst]), (b) => zstdDecompress(b, 1 << 20, 'x.tar.zst'));
});
