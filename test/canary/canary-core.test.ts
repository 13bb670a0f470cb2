// The canary set spec (validated with JSON paths) and the canary release gate, without IO.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateCanaries, parseCanarySet, type CanaryOutcome } from '../../src/core/chaos/index.js';
import { isStellaError } from '../../src/core/errors.js';
import { REPO } from '../helpers/cli.js';

const SET_FILE = path.join(REPO, 'fixtures/canaries/canaries.json');
const raw = () => JSON.parse(readFileSync(SET_FILE, 'utf8')) as Record<string, unknown>;

function errorOf(fn: () => unknown): { path?: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isStellaError(e)) return { path: e.path, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('canary set spec', () => {
  it('holds 12–20 canaries over at least six ecosystems, each input a real file', () => {
    const set = parseCanarySet(raw(), SET_FILE);
    expect(set.canaries.length).toBeGreaterThanOrEqual(12);
    expect(set.canaries.length).toBeLessThanOrEqual(20);
    expect(new Set(set.canaries.map((c) => c.labels.ecosystem)).size).toBeGreaterThanOrEqual(6);
    for (const c of set.canaries) expect(() => readFileSync(path.join(REPO, 'fixtures/third_party', c.input)), c.input).not.toThrow();
  });
  it('names the JSON path of each kind of bad entry', () => {
    const cases: Array<[(v: Record<string, unknown>) => void, string]> = [
      [(v) => (v.canary_set_version = '2'), '$.canary_set_version'],
      [(v) => (v.clock = 'yesterday'), '$.clock'],
      [(v) => ((v.feed as Record<string, unknown>).generated_at = 5), '$.feed.generated_at'],
      [(v) => ((v.feed as Record<string, unknown>).include = ['go', '..']), '$.feed.include[1]'],
      [(v) => ((v.canaries as Array<Record<string, unknown>>)[3].input = '../../etc/passwd'), '$.canaries[3].input'],
      [(v) => ((v.canaries as Array<Record<string, unknown>>)[4].id = (v.canaries as Array<Record<string, unknown>>)[0].id), '$.canaries[4].id'],
      [(v) => (((v.canaries as Array<Record<string, unknown>>)[2].labels as Record<string, unknown>).regulated = 'yes'), '$.canaries[2].labels.regulated'],
      [(v) => (v.canaries = []), '$.canaries'],
    ];
    for (const [mutate, at] of cases) {
      const v = raw();
      mutate(v);
      expect(errorOf(() => parseCanarySet(v, SET_FILE)).path).toBe(at);
    }
  });
});

const facts = (id: string, ok: boolean, regulated = false): CanaryOutcome => ({
  id,
  reason: ok ? null : 'scanner_drift',
  facts: {
    status: ok ? 'passed' : 'failed',
    bf_match: ok,
    sf_match: ok,
    pf_match: true,
    finished_at: '2024-10-05T06:00:00Z',
    duration_ms: 100,
    scanner_version: '0.1.0',
    ecosystem: id.split('-')[0],
    policy_set: 'prod-default',
    base_os: 'none',
    feed_digest: 'sha256:' + 'a'.repeat(64),
    project: id,
    regulated,
    tag: ok ? null : 'scanner_drift',
  },
});

describe('canary gate', () => {
  it('is green when every canary matches', () => {
    const g = gateCanaries(['npm-a', 'pypi-b', 'go-c'].map((id) => facts(id, true)));
    expect(g.state).toBe('green');
    expect(g.canary_rule.ok).toBe(true);
  });
  it('fails on a single mismatching canary even when the ratio alone would only warn', () => {
    const many = Array.from({ length: 60 }, (_, i) => facts(`npm-${i}`, i !== 7));
    const g = gateCanaries(many);
    expect(g.gate.state).not.toBe('fail');
    expect(g.state).toBe('fail');
    expect(g.reasons[0]).toBe('canary_bf_1.0: npm-7 failed (scanner_drift)');
  });
});
