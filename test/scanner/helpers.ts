// Shared setup for the scanner tests: one feed bundle of ALL the OSV fixtures, a policy, and a manifest
// builder for driving runScan directly.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { THIRD_PARTY } from '../helpers/cli.js';
import { buildFeedBundle, openFeedBundle } from '../../src/app/feed.js';
import { bundlePolicy, type PolicyBundle } from '../../src/app/policy.js';
import { buildManifest } from '../../src/app/scan.js';
import { loadScanInput } from '../../src/scanner/inputs/load.js';
import { dominantEcosystem } from '../../src/app/scan.js';
import type { FaultName } from '../../src/scanner/faults.js';
import type { OsvRecordEntry } from '../../src/scanner/types.js';
import type { Digest, ScanManifest } from '../../src/core/formats.js';

export const OSV_DIR = path.join(THIRD_PARTY, 'osv');
export const LOCK = (rel: string) => path.join(THIRD_PARTY, 'lockfiles', rel);
export const SBOM = (rel: string) => path.join(THIRD_PARTY, 'sboms', rel);
export const CLOCK = '2025-12-12T10:15:30Z';

/** Every real lockfile and SBOM the scanner reads (the .toml/package.json/go.sum beside them are not inputs). */
export const ALL_INPUTS = [
  'lockfiles/cargo/bat-v0.18.0/Cargo.lock',
  'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock',
  'lockfiles/go/cyclonedx-gomod-v1.0.0/go.mod',
  'lockfiles/go/node_exporter-v1.0.0/go.mod',
  'lockfiles/npm/nodegoat/package-lock.json',
  'lockfiles/npm/sigstore-js/package-lock.json',
  'lockfiles/npm/socket.io/package-lock.json',
  'lockfiles/python/netbox-v3.0.0/requirements.txt',
  'lockfiles/python/poetry-1.1.0/poetry.lock',
  'sboms/cyclonedx/apache-airflow-2.8.0-python3.10.cdx-1.5.json',
  'sboms/cyclonedx/fluentd-image.deb-gem.cdx-1.6.json',
  'sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json',
  'sboms/cyclonedx/keycloak-10.0.2.maven.cdx-1.2.json',
  'sboms/cyclonedx/laravel-7.12.0.composer.cdx-1.4.json',
  'sboms/cyclonedx/mongo-image.deb-golang.cdx-1.4.json',
  'sboms/cyclonedx/proton-bridge-1.8.0.gomod.cdx-1.2.json',
  'sboms/cyclonedx/sbomqs-with-vulns.gomod.cdx-1.6.json',
  'sboms/spdx/alpine-image.spdx-2.2.json',
  'sboms/spdx/kubectl-image.spdx-2.3.json',
  'sboms/spdx/sbomqs-0.0.15.gomod.spdx-2.2.json',
].map((r) => path.join(THIRD_PARTY, r));

let feedCache: Promise<{ bytes: Buffer; digest: Digest; records: OsvRecordEntry[] }> | null = null;

/** The bundle of all of fixtures/third_party/osv, built once per test file. */
export function allOsvFeed(): Promise<{ bytes: Buffer; digest: Digest; records: OsvRecordEntry[] }> {
  feedCache ??= (async () => {
    const built = await buildFeedBundle(OSV_DIR, { generatedAt: CLOCK });
    const opened = await openFeedBundle(built.bytes, { expectedDigest: built.digest });
    return { bytes: built.bytes, digest: built.digest, records: opened.records };
  })();
  return feedCache;
}

export function writeFeed(dir: string, bytes: Buffer): string {
  const f = path.join(dir, 'feed.tar.zst');
  writeFileSync(f, bytes);
  return f;
}

export const BASE_POLICY = { policy_version: 1, policy_set: 'prod-default' };

export function policy(doc: Record<string, unknown> = BASE_POLICY): PolicyBundle {
  return bundlePolicy(doc, 'policy.json');
}

const D = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;

/** A manifest as `stella scan` would build it, for runScan-level tests. */
export function manifestFor(file: string, faults: FaultName[] = [], opts: { cpus?: number; tz?: string; policySet?: string } = {}): ScanManifest {
  const input = loadScanInput(file);
  return buildManifest({
    input: { type: input.type, ref: path.basename(file), digest: D('a') },
    scannerImageDigest: D('b'),
    scannerVersion: '0.1.0',
    faults,
    feedDigest: D('c'),
    policyDigest: D('d'),
    policySet: opts.policySet ?? 'prod-default',
    clock: { value: CLOCK, mode: 'frozen' },
    environment: { arch: 'amd64', os: 'linux', tz: opts.tz ?? 'UTC', locale: 'C', cpus: opts.cpus ?? 2 },
    labels: { ecosystem: dominantEcosystem(input.packages), base_os: '', regulated: false, project: 'test' },
  });
}
