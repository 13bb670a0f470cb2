// RFC 8785 conformance on the upstream vectors (cyberphone/json-canonicalization), number formatting on
// 10,000 ES6 cases, rejection of values JSON cannot carry, and a cross-check against canonical-json.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import canonicalJson from 'canonical-json';
import { canonicalBytes, canonicalDigest, canonicalString, compareCodeUnits, sha256Digest } from '../../src/core/canonical/jcs.js';
import { StellaError } from '../../src/core/errors.js';
import { THIRD_PARTY } from '../helpers/cli.js';

const JCS = path.join(THIRD_PARTY, 'jcs');
const SBOM_DIR = path.join(THIRD_PARTY, 'sboms/cyclonedx');

const names = (dir: string, ext: string) =>
  readdirSync(path.join(JCS, dir))
    .filter((f) => f.endsWith(ext))
    .map((f) => f.slice(0, -ext.length))
    .sort();

describe('RFC 8785 vectors', () => {
  // Walk the directories so a vector added upstream (or a missing pair) cannot be silently skipped.
  const inputs = names('input', '.json');

  it('every input has an expected output and outhex, and nothing else is there', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(6);
    expect(names('output', '.json')).toEqual(inputs);
    expect(names('outhex', '.txt')).toEqual(inputs);
  });

  for (const name of inputs) {
    it(`${name}: canonical bytes equal output/ and outhex/ byte for byte`, () => {
      const input = JSON.parse(readFileSync(path.join(JCS, 'input', `${name}.json`), 'utf8'));
      const expected = readFileSync(path.join(JCS, 'output', `${name}.json`));
      const hex = readFileSync(path.join(JCS, 'outhex', `${name}.txt`), 'utf8').trim().split(/\s+/).join('');
      const got = canonicalBytes(input);
      expect(got.toString('hex')).toBe(expected.toString('hex'));
      expect(got.toString('hex')).toBe(hex);
      expect(canonicalDigest(input)).toBe(sha256Digest(expected));
    });
  }

  it('formats all 10,000 ES6 number cases exactly', () => {
    const text = readFileSync(path.join(JCS, 'numbers/es6testfile-first10000.txt'), 'utf8');
    expect(createHash('sha256').update(text).digest('hex')).toBe('b9f7a8e75ef22a835685a52ccba7f7d6bdc99e34b010992cbc5864cd12be6892');
    const lines = text.split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(10_000);
    const view = new DataView(new ArrayBuffer(8));
    const failures: string[] = [];
    for (const line of lines) {
      const [hexBits, expected] = line.split(',');
      view.setBigUint64(0, BigInt(`0x${hexBits}`));
      const n = view.getFloat64(0);
      const got = canonicalBytes(n).toString('utf8');
      // Also inside a container, where a writer could take a different code path.
      const inArray = canonicalBytes([n]).toString('utf8');
      if (got !== expected || inArray !== `[${expected}]`) failures.push(`${line} → ${got}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('code-unit key order', () => {
  it('orders keys by UTF-16 code units, including integer-like keys and astral characters', () => {
    // A JS object enumerates "9" before "10"; RFC 8785 compares code units, so "10" < "9".
    const doc = JSON.parse('{"9":1,"10":2,"a":3,"\\ud83d\\ude00":4,"\\uffff":5,"__proto__":6}');
    expect(canonicalString(doc)).toBe('{"10":2,"9":1,"__proto__":6,"a":3,"😀":4,"￿":5}');
  });

  it('compareCodeUnits is code-unit order, not locale order', () => {
    const words = ['é', 'e', 'Z', 'a', '😀', '\uffff', 'E'];
    expect([...words].sort(compareCodeUnits)).toEqual(['E', 'Z', 'a', 'e', 'é', '😀', '\uffff']);
    expect(compareCodeUnits('a', 'a')).toBe(0);
    expect(compareCodeUnits('a', 'b')).toBe(-1);
    expect(compareCodeUnits('b', 'a')).toBe(1);
  });
});

describe('values JSON cannot carry', () => {
  const rejectAt = (value: unknown): { path?: string; message: string; code: string } => {
    try {
      canonicalBytes(value);
    } catch (e) {
      expect(e).toBeInstanceOf(StellaError);
      const err = e as StellaError;
      return { path: err.path, message: err.message, code: err.code };
    }
    throw new Error('expected canonicalBytes to throw');
  };
  class Point {
    x = 1;
  }
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['undefined in an object', { a: { b: undefined } }, '$.a.b', /undefined/],
    ['undefined in an array', { a: [1, undefined] }, '$.a[1]', /undefined/],
    ['NaN', { n: NaN }, '$.n', /NaN/],
    ['Infinity', { list: [{ v: Infinity }] }, '$.list[0].v', /Infinity/],
    ['-Infinity', [-Infinity], '$[0]', /Infinity/],
    ['bigint', { big: 10n }, '$.big', /bigint/],
    ['function', { f: () => 1 }, '$.f', /function/],
    ['symbol', { s: Symbol('x') }, '$.s', /symbol/],
    ['Date', { when: new Date(0) }, '$.when', /Date is not a plain JSON object/],
    ['Map', { m: new Map() }, '$.m', /Map/],
    ['class instance', { p: new Point() }, '$.p', /Point/],
    ['sparse array', { holes: [1, , 3] }, '$.holes[1]', /sparse/], // eslint-disable-line no-sparse-arrays -- the hole is what this case tests
    ['lone surrogate in a value', { s: 'a\ud800' }, '$.s', /surrogate/],
    ['lone surrogate in a key', { 'k\udc00': 1 }, '$', /surrogate/],
    ['odd key in the path', { 'two words': [undefined] }, '$["two words"][0]', /undefined/],
    ['top-level undefined', undefined, '$', /undefined/],
  ];
  for (const [what, value, where, msg] of cases) {
    it(`rejects ${what} with SCHEMA_INVALID at ${where}`, () => {
      const r = rejectAt(value);
      expect(r.code).toBe('SCHEMA_INVALID');
      expect(r.path).toBe(where);
      expect(r.message).toMatch(msg);
    });
  }

  it('rejects a cycle instead of overflowing the stack', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = { back: a };
    const r = rejectAt(a);
    expect(r.path).toBe('$.self.back');
    expect(r.message).toMatch(/circular/);
  });

  it('accepts null-prototype objects and -0 (as 0)', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = -0;
    o.a = null;
    expect(canonicalString(o)).toBe('{"a":null,"b":0}');
  });
});

describe('cross-check against canonical-json', () => {
  // Our writer replaces canonical-json on the hot path (see jcs.ts); on real documents, which have no
  // integer-like keys, the two must agree byte for byte.
  const files = readdirSync(SBOM_DIR).filter((f) => f.endsWith('.json')).sort();
  it('finds the real SBOMs', () => expect(files.length).toBeGreaterThanOrEqual(8));
  for (const f of files) {
    it(`${f}: identical bytes`, () => {
      const doc = JSON.parse(readFileSync(path.join(SBOM_DIR, f), 'utf8'));
      expect(canonicalString(doc)).toBe(canonicalJson(doc));
    });
  }
  it('the native and the key-sorting writer agree on every real SBOM', () => {
    // A key starting with a digit sends the whole value through the JS writer.
    for (const f of files) {
      const doc = JSON.parse(readFileSync(path.join(SBOM_DIR, f), 'utf8'));
      expect(canonicalString({ '0': doc }), f).toBe(`{"0":${canonicalString(doc)}}`);
    }
  });

  it('agrees on every RFC 8785 input except where canonical-json misorders integer-like keys', () => {
    const disagree: string[] = [];
    for (const name of names('input', '.json')) {
      const doc = JSON.parse(readFileSync(path.join(JCS, 'input', `${name}.json`), 'utf8'));
      const expected = readFileSync(path.join(JCS, 'output', `${name}.json`), 'utf8');
      expect(canonicalString(doc), name).toBe(expected);
      if (canonicalJson(doc) !== expected) disagree.push(name);
    }
    // structures.json and weird.json have integer-like keys ("1", "10", "111"): a JS object enumerates
    // those first, so canonical-json 0.4 emits them before "" and "\n" — the reason canonicalBytes does
    // not delegate to it.
    expect(disagree).toEqual(['structures', 'weird']);
  });
});
