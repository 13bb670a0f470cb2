// The what-if codec: `--what-if feed=…` values ⇄ overrides ⇄ the replay.json `mode` string
// (`pinned` or `what-if:feed=sha256:…,policy=…`), and the manifest the scanner sees under them.
import { StellaError } from '../errors.js';
import { DIGEST_RE, type Digest, type ScanManifest } from '../formats.js';

export type WhatIfKey = 'feed' | 'policy' | 'scanner';
export type WhatIf = Partial<Record<WhatIfKey, Digest>>;

const MODE_PREFIX = 'what-if:';

/** `feed=sha256:…` / `policy=…` / `scanner=…` → overrides; anything else is a usage error. */
export function parseWhatIf(values: readonly string[]): WhatIf {
  const out: WhatIf = {};
  for (const v of values) {
    const m = /^(feed|policy|scanner)=(.*)$/.exec(v);
    if (!m) throw new StellaError('USAGE', `--what-if ${v}: expected feed=DIGEST, policy=DIGEST or scanner=IMAGE_ID`);
    const key = m[1] as WhatIfKey;
    if (!DIGEST_RE.test(m[2])) throw new StellaError('DIGEST_INVALID', `--what-if ${key}=${m[2]}: not a digest (sha256: followed by 64 lowercase hex)`);
    if (out[key] && out[key] !== m[2]) throw new StellaError('USAGE', `--what-if ${key} given twice with different digests`);
    out[key] = m[2] as Digest;
  }
  return out;
}

/** Overrides in key order: `feed=…,policy=…` ('' when none). */
export function whatIfText(w: WhatIf): string {
  return (Object.keys(w) as WhatIfKey[])
    .sort()
    .map((k) => `${k}=${w[k]}`)
    .join(',');
}

/** The replay.json `mode` of a replay under these overrides. */
export function modeOf(w: WhatIf): string {
  const text = whatIfText(w);
  return text ? `${MODE_PREFIX}${text}` : 'pinned';
}

/** The overrides a `mode` string names (`pinned` → none); a malformed mode is an error. */
export function whatIfOfMode(mode: string): WhatIf {
  return mode.startsWith(MODE_PREFIX) ? parseWhatIf(mode.slice(MODE_PREFIX.length).split(',')) : {};
}

/** The manifest the scanner sees: the original with the what-if overrides applied. */
export function effectiveManifest(m: ScanManifest, w: WhatIf): ScanManifest {
  const copy = JSON.parse(JSON.stringify(m)) as ScanManifest;
  if (w.feed) copy.feeds.vuln_feed_bundle_digest = w.feed;
  if (w.policy) copy.policy.policy_bundle_digest = w.policy;
  if (w.scanner) copy.scanner.scanner_image_digest = w.scanner;
  return copy;
}
