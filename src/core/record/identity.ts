// Record identity: content-derived ids from explicit tuples (SPEC §1.1, §4).
import { canonicalDigest } from '../canonical/jcs.js';
import type { Digest, ScanManifest } from '../formats.js';
import { whatIfText, type WhatIf } from './what-if.js';

const hex16 = (d: string): string => d.slice('sha256:'.length, 'sha256:'.length + 16);

/**
 * scan_id = scan_ + 16 hex of sha256 over what the scan pinned: input type and digest, scanner,
 * feeds, policy, environment and normalization. Left out on purpose: input.ref (where the input
 * lived), input.layers and source_provenance, labels (how it is filed), created_at and
 * manifest_version — the same inputs scanned the same way are the same scan.
 */
export type PinnedFields = Pick<ScanManifest, 'scanner' | 'feeds' | 'policy' | 'environment' | 'normalization'> & { input: Pick<ScanManifest['input'], 'type' | 'digest'> };

export function scanIdOf(m: PinnedFields): string {
  const pinned = {
    input: { type: m.input.type, digest: m.input.digest },
    scanner: m.scanner,
    feeds: m.feeds,
    policy: m.policy,
    environment: m.environment,
    normalization: m.normalization,
  };
  return `scan_${hex16(canonicalDigest(pinned))}`;
}

/**
 * replay_id = rpl_ + 16 hex of sha256 over (manifest sha256, executor kind, what-if overrides, start
 * time). Left out on purpose: the output directory and the host — the same replay written to two
 * places is the same replay.
 */
export function replayIdOf(manifestSha: Digest, executorKind: string, whatIf: WhatIf, startedAt: string): string {
  return `rpl_${hex16(canonicalDigest({ manifest_sha256: manifestSha, executor: executorKind, what_if: whatIfText(whatIf), started_at: startedAt }))}`;
}
