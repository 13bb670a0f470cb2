// Shared set-up for the docker and replay tests: real images, real blobs, real manifests.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { engineFromEnv } from '../../src/adapters/docker/engine.js';
import { defaultSources } from '../../src/adapters/docker/image-archive.js';
import { buildScannerImage } from '../../src/app/image.js';
import type { ScanManifest } from '../../src/core/formats.js';
import { REPO, THIRD_PARTY } from '../helpers/cli.js';

export const PROBE_DIR = path.join(REPO, 'test/docker/probe');
export const LOCKFILE = path.join(THIRD_PARTY, 'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock');
export const EXAMPLE_MANIFEST = path.join(REPO, 'fixtures/manifests/example.manifest.json');

export const engine = () => engineFromEnv({ DOCKER_HOST: process.env.DOCKER_HOST });

/**
 * An image whose "scanner" is the given script: built by the real builder from a throw-away root, so
 * timeouts and interrupts are tested with the same image path, HostConfig and cleanup as a real replay.
 */
export async function buildScriptImage(home: string, script: string): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'stella-fake-scanner-'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'fake-scanner', type: 'module' }));
  mkdirSync(path.join(root, 'dist/src/scanner'), { recursive: true });
  writeFileSync(path.join(root, 'dist/src/scanner/entry.js'), script);
  const r = await buildScannerImage({ blobs: new BlobStore(home), engine: engine(), sources: { ...defaultSources(REPO), repoRoot: root } });
  return r.image_id;
}

/** A scan record dir holding a manifest whose input, feed and policy are real blobs in `home`. */
export function writeManifest(
  home: string,
  dir: string,
  opts: { imageId: string; feedBytes?: Buffer | null; policyBytes?: Buffer | null; edit?: (m: ScanManifest) => void },
): { file: string; manifest: ScanManifest } {
  const blobs = new BlobStore(home);
  const m = JSON.parse(readFileSync(EXAMPLE_MANIFEST, 'utf8')) as ScanManifest;
  m.input.digest = blobs.put(readFileSync(LOCKFILE));
  m.input.ref = 'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock';
  const feed = opts.feedBytes === undefined ? Buffer.from('feed bundle placeholder for ' + dir) : opts.feedBytes;
  const policy = opts.policyBytes === undefined ? Buffer.from('{"policy":"placeholder"}') : opts.policyBytes;
  if (feed) m.feeds.vuln_feed_bundle_digest = blobs.put(feed);
  if (policy) m.policy.policy_bundle_digest = blobs.put(policy);
  m.scanner.scanner_image_digest = opts.imageId as ScanManifest['scanner']['scanner_image_digest'];
  opts.edit?.(m);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(m, null, 2) + '\n');
  return { file, manifest: m };
}

export async function containersWithLabel(docker: Docker, label: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  return list.map((c) => c.Id);
}
