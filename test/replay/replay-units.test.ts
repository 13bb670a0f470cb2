// Replay identity, what-if parsing and the BF comparison, without an engine.
import { describe, expect, it } from 'vitest';
import { compareOutputs, effectiveManifest, parseWhatIf, replayId } from '../../src/app/replay.js';
import type { Outputs, ScanManifest } from '../../src/core/formats.js';
import { readFileSync } from 'node:fs';
import { EXAMPLE_MANIFEST } from '../docker/support.js';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

function outputs(over: Partial<Record<keyof Outputs, { c: string; r: string }>> = {}): Outputs {
  const base = (n: keyof Outputs) => ({
    path: `artifacts/${n}`,
    canonical_sha256: (over[n]?.c ?? D1) as `sha256:${string}`,
    raw_sha256: (over[n]?.r ?? D1) as `sha256:${string}`,
    schema: 'cyclonedx-1.6' as const,
    bytes: 1,
  });
  return { sbom: base('sbom'), findings: base('findings'), vex: base('vex'), verdict: base('verdict') };
}

describe('replay id', () => {
  it('is rpl_ + 16 hex, derived from manifest, executor, overrides and start time only', () => {
    const a = replayId(D1, 'docker', {}, '2026-01-01T00:00:00.000Z');
    expect(a).toMatch(/^rpl_[0-9a-f]{16}$/);
    expect(replayId(D1, 'docker', {}, '2026-01-01T00:00:00.000Z')).toBe(a);
    expect(replayId(D1, 'local', {}, '2026-01-01T00:00:00.000Z')).not.toBe(a);
    expect(replayId(D2, 'docker', {}, '2026-01-01T00:00:00.000Z')).not.toBe(a);
    expect(replayId(D1, 'docker', { feed: D2 }, '2026-01-01T00:00:00.000Z')).not.toBe(a);
    expect(replayId(D1, 'docker', {}, '2026-01-01T00:00:00.001Z')).not.toBe(a);
  });
});

describe('--what-if', () => {
  it('parses feed/policy/scanner digests and applies them to a copy of the manifest', () => {
    const w = parseWhatIf([`feed=${D1}`, `scanner=${D2}`]);
    expect(w).toEqual({ feed: D1, scanner: D2 });
    const m = JSON.parse(readFileSync(EXAMPLE_MANIFEST, 'utf8')) as ScanManifest;
    const e = effectiveManifest(m, w);
    expect(e.feeds.vuln_feed_bundle_digest).toBe(D1);
    expect(e.scanner.scanner_image_digest).toBe(D2);
    expect(m.feeds.vuln_feed_bundle_digest).not.toBe(D1);
  });

  it('rejects unknown keys, bad digests and conflicting repeats', () => {
    expect(() => parseWhatIf(['color=blue'])).toThrow(/expected feed=DIGEST/);
    expect(() => parseWhatIf(['feed=latest'])).toThrow(/not a digest/);
    expect(() => parseWhatIf([`feed=${D1}`, `feed=${D2}`])).toThrow(/twice/);
  });

  it('tz= must be a zone the time-zone database knows (a misspelt one would run in UTC unnoticed)', () => {
    expect(parseWhatIf(['tz=America/Los_Angeles'])).toEqual({ tz: 'America/Los_Angeles' });
    expect(parseWhatIf(['tz=UTC'])).toEqual({ tz: 'UTC' });
    expect(() => parseWhatIf(['tz=Not/AZone'])).toThrow('--what-if tz=Not/AZone: expected tz= an IANA time zone such as America/New_York');
    expect(() => parseWhatIf(['tz=Europe/Pariss'])).toThrow(/expected tz= an IANA time zone/);
  });
});

describe('BF comparison', () => {
  it('matches when every canonical hash is equal; raw-only differences warn unstable_raw_order', () => {
    expect(compareOutputs(outputs(), outputs())).toEqual({ bf_match: true, warnings: [] });
    expect(compareOutputs(outputs(), outputs({ sbom: { c: D1, r: D2 } }))).toEqual({ bf_match: true, warnings: ['unstable_raw_order'] });
    expect(compareOutputs(outputs(), outputs({ verdict: { c: D2, r: D2 } }))).toEqual({ bf_match: false, warnings: [] });
    expect(compareOutputs(null, outputs())).toEqual({ bf_match: null, warnings: [] });
  });
});
