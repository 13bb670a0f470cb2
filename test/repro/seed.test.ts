// The recorded runtime a reproduction re-creates, at the scanner's own level: a fault seed fixes the
// wall clock and random ids the `wallclock` and `random-ids` switches write (same seed, same bytes;
// another seed, other bytes), a release reports its own version, and the verdict expects the same four
// hashes for a nondeterminism record that names its seed.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ARTIFACT_NAMES, type ReplayRecord } from '../../src/core/formats.js';
import { loadScanInput } from '../../src/scanner/inputs/load.js';
import { serializeArtifacts } from '../../src/scanner/run.js';
import { scanUnder, type ScanRuntime } from '../../src/scanner/runtime.js';
import type { FaultName } from '../../src/scanner/faults.js';
import type { OsvRecordEntry } from '../../src/scanner/types.js';
import { judge } from '../../src/app/repro.js';
import { LOCK, allOsvFeed, manifestFor, policy } from '../scanner/helpers.js';

const FILE = LOCK('npm/socket.io/package-lock.json');
let records: OsvRecordEntry[];
beforeAll(async () => {
  records = (await allOsvFeed()).records;
}, 120_000);

const host: Omit<ScanRuntime, 'faultSeed' | 'release'> = { timeZone: 'UTC', cpus: 2, wallclock: () => new Date(), randomUUID };

function scan(faults: FaultName[], faultSeed: string | null, release: ScanRuntime['release'] = null): Record<string, string> {
  const input = loadScanInput(FILE);
  const docs = scanUnder({ packages: input.packages, records, policy: policy().policy, manifest: manifestFor(FILE, faults), faults }, { ...host, faultSeed, release });
  const bytes = serializeArtifacts(docs);
  return Object.fromEntries(ARTIFACT_NAMES.map((n) => [n, bytes[n].toString('utf8')]));
}

describe('fault seeds and releases', () => {
  it('a seed fixes what random-ids and wallclock write; another seed or none changes it', () => {
    const faults: FaultName[] = ['random-ids', 'wallclock'];
    const a = scan(faults, 'seed-a');
    expect(scan(faults, 'seed-a')).toEqual(a);
    const b = scan(faults, 'seed-b');
    expect(b.vex).not.toBe(a.vex);
    expect(b.sbom).not.toBe(a.sbom);
    // Only the artifacts the switches disturb move.
    expect([b.findings, b.verdict]).toEqual([a.findings, a.verdict]);
    expect(scan(faults, null).vex).not.toBe(a.vex);
    // Without a fault a seed changes nothing.
    expect(scan([], 'seed-a')).toEqual(scan([], null));
  });

  it('a release reports its own version in the artifacts, whatever the manifest says', () => {
    const base = scan([], null);
    const released = scan([], null, { version: '9.9.9' });
    expect(released.vex).toContain('9.9.9');
    expect(base.vex).not.toContain('9.9.9');
    expect(released.findings).toBe(base.findings);
  });

  it('the verdict expects the same hashes for a nondeterminism record that names its seed', () => {
    const rec = (seed?: string): ReplayRecord =>
      ({
        replay_id: 'rpl_0000000000000001',
        status: 'failed',
        mismatch_reason: 'nondeterminism',
        subtags: ['rng'],
        artifacts: Object.fromEntries(ARTIFACT_NAMES.map((n) => [n, { canonical_sha256: `sha256:${'a'.repeat(64)}` }])),
        executor: { ...(seed ? { fault_seed: seed } : {}) },
      }) as unknown as ReplayRecord;
    const other = { ...rec('s'), replay_id: 'rpl_0000000000000002', artifacts: { ...rec('s').artifacts, vex: { canonical_sha256: `sha256:${'b'.repeat(64)}` } } } as ReplayRecord;
    expect(judge(rec('s'), rec('s')).verdict).toContain('same hashes expected');
    expect(judge(rec('s'), other).reproduced).toBe(false);
    expect(judge(rec(), other)).toMatchObject({ reproduced: true });
    expect(judge(rec(), other).verdict).toContain('random cause: same cause and subtags expected');
  });
});
