// The what-if codec: `--what-if feed=…` values ⇄ overrides ⇄ the replay.json `mode` string
// (`pinned` or `what-if:feed=sha256:…,policy=…`), and the manifest the scanner sees under them.
import { StellaError } from '../errors.js';
import { DIGEST_RE, type Digest, type ScanManifest } from '../formats.js';
import { RFC3339 } from '../guards.js';

export type WhatIfKey = 'feed' | 'policy' | 'scanner';
/** Overrides of the recorded executor environment: the time zone, locale, CPU count and frozen clock. */
export type EnvWhatIfKey = 'tz' | 'locale' | 'cpus' | 'clock';
export type WhatIf = Partial<Record<WhatIfKey, Digest>> & Partial<Record<EnvWhatIfKey, string>>;

const MODE_PREFIX = 'what-if:';

/** A zone the time-zone database knows (a misspelt zone would run the scanner silently in UTC). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const ENV_WHAT_IF: Record<EnvWhatIfKey, { re: RegExp; expect: string; ok?: (v: string) => boolean }> = {
  tz: { re: /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/, expect: 'an IANA time zone such as America/New_York', ok: knownTimeZone },
  locale: { re: /^[A-Za-z][A-Za-z0-9_.@\-]*$/, expect: 'a locale such as C.UTF-8 or de_DE.UTF-8' },
  cpus: { re: /^[1-9][0-9]{0,3}$/, expect: 'a CPU count from 1 to 9999' },
  clock: { re: RFC3339, expect: 'an RFC 3339 instant such as 2025-12-12T10:15:30Z', ok: (v) => !Number.isNaN(Date.parse(v)) },
};

/** `feed=sha256:…` / `policy=…` / `scanner=…` / `tz=…` / `locale=…` / `cpus=…` / `clock=…` → overrides; anything else is a usage error. */
export function parseWhatIf(values: readonly string[]): WhatIf {
  const out: WhatIf = {};
  for (const v of values) {
    const e = /^(tz|locale|cpus|clock)=(.*)$/.exec(v);
    if (e) {
      const key = e[1] as EnvWhatIfKey;
      const rule = ENV_WHAT_IF[key];
      if (!rule.re.test(e[2]) || (rule.ok && !rule.ok(e[2]))) throw new StellaError('USAGE', `--what-if ${v}: expected ${key}= ${rule.expect}`);
      if (out[key] !== undefined && out[key] !== e[2]) throw new StellaError('USAGE', `--what-if ${key} given twice with different values`);
      out[key] = e[2];
      continue;
    }
    const m = /^(feed|policy|scanner)=(.*)$/.exec(v);
    if (!m) throw new StellaError('USAGE', `--what-if ${v}: expected feed=DIGEST, policy=DIGEST, scanner=IMAGE_ID, tz=ZONE, locale=LOCALE, cpus=N or clock=RFC3339`);
    const key = m[1] as WhatIfKey;
    if (!DIGEST_RE.test(m[2])) throw new StellaError('DIGEST_INVALID', `--what-if ${key}=${m[2]}: not a digest (sha256: followed by 64 lowercase hex)`);
    if (out[key] && out[key] !== m[2]) throw new StellaError('USAGE', `--what-if ${key} given twice with different digests`);
    out[key] = m[2] as Digest;
  }
  return out;
}

/** Overrides in key order: `feed=…,policy=…` ('' when none). */
export function whatIfText(w: WhatIf): string {
  return (Object.keys(w) as Array<WhatIfKey | EnvWhatIfKey>)
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
  if (w.tz !== undefined) copy.environment.tz = w.tz;
  if (w.locale !== undefined) copy.environment.locale = w.locale;
  if (w.cpus !== undefined) copy.environment.cpus = Number(w.cpus);
  if (w.clock !== undefined) {
    copy.environment.clock_mode = 'frozen';
    copy.environment.clock_value = w.clock;
  }
  return copy;
}
