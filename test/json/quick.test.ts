// The JSON reader's fast path (issue 17): parseJsonText tries JSON.parse first and checks depth and
// duplicate names on the value; the full reader (parseJsonChecked: the syntax pass, then JSON.parse) is
// the oracle. For every input both must give the same value, or the same one-line error.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJsonChecked, parseJsonText } from '../../src/core/json/parse.js';
import { THIRD_PARTY } from '../helpers/cli.js';
import { makeRecord } from '../../bench/gen-records.js';

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    const x = e as { oneLine?: () => string; constructor: { name: string }; message: string };
    return { ok: false, error: x.oneLine ? x.oneLine() : `${x.constructor.name}: ${x.message}` };
  }
}

/** Same value (own keys in the same order, -0 kept apart from 0) or the same error line. */
function expectSame(text: string, maxDepth?: number): Outcome {
  const opts = maxDepth === undefined ? {} : { maxDepth };
  const fast = outcome(() => parseJsonText(text, 'x.json', opts));
  const full = outcome(() => parseJsonChecked(text, 'x.json', opts));
  expect(fast.ok).toBe(full.ok);
  if (fast.ok && full.ok) {
    expect(JSON.stringify(fast.value)).toBe(JSON.stringify(full.value));
    expect(fast.value).toStrictEqual(full.value);
  } else expect(fast).toEqual(full);
  return fast;
}

// Tokens that make the interesting cases common: the same key twice (also spelled with an escape),
// deep nesting, escapes of quotes and backslashes before a colon, __proto__, numbers at the edges.
const KEYS = ['a', 'b', '\\u0061', '__proto__', 'a\\"', 'a\\\\', '0', '1', 'x:y', ''];
const key = fc.constantFrom(...KEYS).map((k) => `"${k}"`);
const scalar = fc.oneof(
  fc.constantFrom('0', '-0', '1e400', '0.1', '12345678901234567890', 'true', 'false', 'null', '"\\ud800"', '"\\"', '"\\\\"', '"a:b"', '":"'),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
);
const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
const { value: jsonish } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }).chain((items) => ws.map((w) => `[${w}${items.join(`,${w}`)}]`)),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).chain((members) => ws.map((w) => `{${w}${members.map(([k, v]) => `${k}${w}:${v}`).join(`,${w}`)}}`)),
  ),
}));
/** Mutations of a document: a character dropped, doubled or replaced by a JSON-significant one. */
const mutatedOf = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.nat(), fc.constantFrom('', '"', '\\', ':', ',', '{', '}', '[', ']', ' ', 'x')).map(([t, at, c]) => {
    const i = t.length === 0 ? 0 : at % t.length;
    return t.slice(0, i) + c + t.slice(i + 1);
  });

describe('JSON fast path vs the full reader', () => {
  it('answers the same for generated documents and their mutations', () => {
    fc.assert(fc.property(fc.oneof(jsonish, mutatedOf(jsonish)), (t) => void expectSame(t)), { seed: 1717, numRuns: 4000 });
  });

  it('answers the same at small depth limits (deep documents, depth errors with their paths)', () => {
    fc.assert(
      fc.property(jsonish, fc.integer({ min: 0, max: 4 }), (t, d) => void expectSame(t, d)),
      { seed: 1718, numRuns: 2000 },
    );
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    for (const n of [999, 1000, 1001, 5000]) expectSame(deep(n));
    expectSame(`{"a": ${deep(1001)}, "a": 1}`);
    expectSame(`{"a": 1, "a": ${deep(1001)}}`);
  });

  it('refuses every duplicate, however it is spelled, with the full reader\'s message', () => {
    const dups = ['{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '{"x":{"k":[{"b":1,"c":2,"b":3}]}}', '{"__proto__":1,"__proto__":2}', '{"a\\"":1,"a\\"":2}'];
    for (const t of dups) {
      const got = expectSame(t);
      expect(got.ok).toBe(false);
    }
    // Shapes the member count must not be fooled by: colons and escaped quotes inside strings.
    for (const t of ['{"a:b":"c:d","e":"\\":"}', '{"\\\\":1,"\\\\\\"":2}', '["a", "b":1]', '{"a" :1 , "b"\t:\n2}', '"::"', '{}', '[]']) expectSame(t);
  });

  it('answers the same on real documents and on generated records', () => {
    for (const rel of ['sboms/cyclonedx/sbomqs-with-vulns.gomod.cdx-1.6.json']) {
      const text = readFileSync(path.join(THIRD_PARTY, rel), 'utf8');
      expect(expectSame(text).ok).toBe(true);
    }
    for (let i = 0; i < 50; i++) {
      const r = makeRecord({ i, finishedAt: '2026-01-15T10:00:00Z', outcome: i % 3 === 0 ? 'failed' : 'passed' });
      expect(expectSame(JSON.stringify(r.replay, null, 2)).ok).toBe(true);
      expect(expectSame(JSON.stringify(r.manifest)).ok).toBe(true);
    }
  });
});
