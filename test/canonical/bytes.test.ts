// The one-pass writer (src/core/canonical/bytes.ts) against its oracle, today's parse → normalize →
// JSON.stringify path: byte-identical canonical bytes on every JSON fixture under every rule set, on the
// RFC 8785 vectors, and on seeded random variants of real SBOMs and VEX documents (keys and arrays
// permuted, random values salted in, random whitespace, escapes and number spellings); and it gives up
// (so the slow path reports the error, with file and JSON path) on everything the parser rejects.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  canonicalFromBytes,
  canonicalizeArtifactBytes,
  canonicalizeArtifactBytesViaParse,
  type SchemaChoice,
} from '../../src/core/canonical/index.js';
import { mulberry32 } from '../../src/core/seeded-random.js';
import { THIRD_PARTY } from '../helpers/cli.js';

const CHOICES: Array<SchemaChoice | 'auto'> = ['auto', 'none', 'cyclonedx-1.6', 'openvex-0.2.0', 'stella-findings-v1', 'stella-verdict-v1'];

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (f.endsWith('.json')) out.push(p);
  }
  return out;
}

type Outcome = { ok: true; schema: string; hex: string } | { ok: false; error: string };

function outcome(fn: () => { schema: string; bytes: Buffer }): Outcome {
  try {
    const r = fn();
    return { ok: true, schema: r.schema, hex: r.bytes.toString('hex') };
  } catch (e) {
    const err = e as Error & { code?: string; path?: string; file?: string };
    return { ok: false, error: `${err.code} ${err.message} ${err.path} ${err.file}` };
  }
}

/** The fast path's answer equals the oracle's: same bytes and schema, or the same error. */
function expectSameAsOracle(choice: SchemaChoice | 'auto', bytes: Uint8Array, file = 'doc.json'): Outcome {
  const oracle = outcome(() => canonicalizeArtifactBytesViaParse(choice, bytes, file));
  const fast = canonicalFromBytes(choice, bytes);
  if (fast) {
    expect(oracle.ok, `fast path accepted what the oracle rejects (${choice})`).toBe(true);
    expect({ schema: fast.schema, hex: fast.bytes.toString('hex') }).toEqual({ schema: (oracle as { schema: string }).schema, hex: (oracle as { hex: string }).hex });
  }
  expect(outcome(() => canonicalizeArtifactBytes(choice, bytes, file))).toEqual(oracle);
  return oracle;
}

describe('one-pass canonical bytes = parse → normalize → stringify', () => {
  const files = jsonFiles(THIRD_PARTY);

  it(`every JSON fixture under fixtures/third_party (${files.length} files), under every rule set`, () => {
    expect(files.length).toBeGreaterThan(500);
    let fastTaken = 0;
    let valid = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const choice of CHOICES) {
        const o = expectSameAsOracle(choice, bytes, f);
        if (o.ok) {
          valid++;
          if (canonicalFromBytes(choice, bytes)) fastTaken++;
        }
      }
    }
    // The fast path must really run: it may give up only where a number would outgrow its text.
    expect(fastTaken).toBeGreaterThan(valid * 0.99);
  });

  it('RFC 8785 vectors: output/ byte for byte', () => {
    const dir = path.join(THIRD_PARTY, 'jcs');
    const names = readdirSync(path.join(dir, 'input')).filter((f) => f.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(6);
    for (const name of names) {
      const fast = canonicalFromBytes('none', readFileSync(path.join(dir, 'input', name)));
      expect(fast, name).not.toBeNull();
      expect(fast!.bytes.toString('hex'), name).toBe(readFileSync(path.join(dir, 'output', name)).toString('hex'));
    }
  });

  it('seeded random variants of real SBOMs and VEX documents', () => {
    const docs = [
      ...jsonFiles(path.join(THIRD_PARTY, 'sboms/cyclonedx')),
      ...jsonFiles(path.join(THIRD_PARTY, 'vex')).filter((f) => /openvex|vexctl|go-vex|VEX/.test(f)).slice(0, 40),
    ].flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(f, 'utf8')) as unknown];
      } catch {
        return [];
      }
    });
    expect(docs.length).toBeGreaterThan(10);
    const rnd = mulberry32(8785);
    let fastTaken = 0;
    const RUNS = 160;
    for (let run = 0; run < RUNS; run++) {
      const base = docs[Math.floor(rnd() * docs.length)];
      const gen = new Variant(rnd);
      const doc = gen.mutate(base, 0);
      const text = gen.print(doc, 0);
      const bytes = Buffer.from(text, 'utf8');
      const choice = rnd() < 0.6 ? 'auto' : CHOICES[Math.floor(rnd() * CHOICES.length)];
      const o = expectSameAsOracle(choice, bytes);
      if (o.ok && canonicalFromBytes(choice, bytes)) fastTaken++;
    }
    expect(fastTaken).toBeGreaterThan(RUNS * 0.5);
  });

  it('hand-picked edge cases agree with the oracle', () => {
    const cases = [
      '{"b":1,"a":2,"10":3,"9":4,"":5,"\\u00e9":6,"è":7,"\\ud83d\\ude01":8,"\\ue000":9,"😀":10,"\uffff":11,"\ue001":12}',
      '{"😀":1,"\uffff":2,"\ue000":3,"\ud7ff":4,"a😀":5,"a\uffff":6}',
      '{"components":[{"name":"b"},{"name":"a"},{"name":"a","version":"2"},{"name":"a","version":10},{"name":"a","version":9}],"bomFormat":"CycloneDX"}',
      '{"bomFormat":"CycloneDX","components":[{"purl":"p\\u0000x"},{"purl":"p"},{"purl":"p\\u0000"},{"purl":"p","version":"\\u0000"}]}',
      '{"bomFormat":"CycloneDX","components":[{"purl":"\\ue000"},{"purl":"😀"},{"purl":"\\uffff"},{"purl":"a"}]}',
      '{"bomFormat":"CycloneDX","serialNumber":"urn:x","metadata":{"timestamp":"t","b":1},"hostname":"h","x":{"hostname":1,"duration_ms":2,"timestamp":3}}',
      '{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"b","affects":[{"ref":"z"},{"ref":"a"}]},{"id":"b","affects":[{"ref":"c"}]},{"id":"a"}]}',
      '{"bomFormat":"CycloneDX","licenses":[{"license":{"name":"x"}},{"license":{"id":"b"}},{"expression":"a"},{"license":{"id":"a"}}]}',
      '{"bomFormat":"CycloneDX","dependencies":[{"ref":"b","dependsOn":["z","a","a"]},{"ref":"a","dependsOn":[1,"x",true,null,{"a":1},[2]]}]}',
      '{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":"t","statements":[{"vulnerability":{"name":"b"},"products":[{"@id":"z"},{"@id":"a"}]},{"vulnerability":"a","products":["y","x"]}]}',
      '{"schema":"stella-findings/v1","findings":[{"vulnerability_id":"b","package":{"purl":"x"}},{"vulnerability_id":"a","aliases":["z","y"]}],"duration_ms":5}',
      '{"schema":"stella-verdict/v1","reasons":[{"code":2},{"code":"1"},{"code":false}]}',
      '[1.0,-0,0.1,1e21,1E-7,123456789012345678,100,-0.0,5e-324,1.7976931348623157e308,0.000001]',
      '"\\u001f\\b\\f\\n\\r\\t\\"\\\\\\/\\u007f\\u2028"',
      '  {"a" : [ 1 , {"c":{}, "b":[]} ] }  ',
      '{"bomFormat":"CycloneDX","bomFormat":"x"}',
      '{"a":1,"a":1}',
      '{"hostname":1,"hostname":2}',
      '{"x":{"b":1,"a":2,"b":3}}',
      '{"a":"\\ud800"}',
      '{"\\udc00":1}',
      '{"hostname":"\\ud800"}',
      '{"a":1e400}',
      '{"a":-1e400}',
      '{"a":1e3}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":-}',
      '{"a":NaN}',
      '{"a":tru}',
      '{"a":"x\ny"}',
      '{"a":"\\x"}',
      '{"a":1,}',
      '[1,]',
      '{"a":1} x',
      '{"a":1',
      '',
      '   ',
      '\ufeff{"a":1}',
      '{"bomFormat":"CycloneDX","components":{"a":1}}',
      '[{"bomFormat":"CycloneDX"}]',
      '"CycloneDX"',
      `${'['.repeat(999)}${']'.repeat(999)}`,
      `${'['.repeat(1001)}${']'.repeat(1001)}`,
      `${'{"a":'.repeat(1200)}1${'}'.repeat(1200)}`,
    ];
    let fastTaken = 0;
    for (const c of cases) {
      for (const choice of CHOICES) {
        expectSameAsOracle(choice, Buffer.from(c, 'utf8'));
        if (canonicalFromBytes(choice, Buffer.from(c, 'utf8'))) fastTaken++;
      }
    }
    // The well-formed cases without duplicates or outgrowing numbers go through the fast path.
    expect(fastTaken).toBeGreaterThanOrEqual(60);
    for (const bad of [[0xff], [0x22, 0xc3, 0x28, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d]]) {
      for (const choice of CHOICES) {
        const bytes = Buffer.from(bad);
        expect(canonicalFromBytes(choice, bytes)).toBeNull();
        const o = expectSameAsOracle(choice, bytes);
        expect(o.ok).toBe(false);
      }
    }
  });

  it('does not modify the caller’s bytes', () => {
    const text = '{ "b" : [ 2 , 1 ] , "a" : "\\u00e9" }';
    const bytes = Buffer.from(text);
    expect(canonicalFromBytes('none', bytes)!.bytes.toString()).toBe('{"a":"é","b":[2,1]}');
    expect(bytes.toString()).toBe(text);
  });
});

/** Random JSON around a real document: permutes, salts in values, prints with random spellings. */
class Variant {
  constructor(private readonly rnd: () => number) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  randomString(): string {
    const parts = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '\ue000', '\uffff', '😀', '\u{10ffff}', 'pkg:npm/x@1', '-g1', '\u0000b'];
    let s = '';
    const n = Math.floor(this.rnd() * 6);
    for (let i = 0; i < n; i++) s += this.pick(parts);
    return s;
  }

  randomValue(depth: number): unknown {
    const r = this.rnd();
    if (r < 0.25) return this.randomString();
    if (r < 0.45) return this.pick([0, -0, 1, -1, 0.5, 1e21, 1e-7, 123456789, 2 ** 53, 2 ** 53 + 2, -1.5e300, 5e-324, 0.1 + 0.2, 1e15, 999999999999999, 1e16]);
    if (r < 0.55) return this.pick([true, false, null]);
    if (depth > 4) return this.randomString();
    if (r < 0.75) return Array.from({ length: Math.floor(this.rnd() * 4) }, () => this.randomValue(depth + 1));
    const o: Record<string, unknown> = {};
    const keys = ['name', 'version', 'purl', 'ref', 'id', 'hostname', 'duration_ms', 'components', 'hashes', 'dependsOn', 'properties', 'affects', 'license', 'products', '@id', 'vulnerability', 'statements', 'aliases', 'findings', 'reasons', 'code', '10', '9', ''];
    const n = Math.floor(this.rnd() * 4);
    for (let i = 0; i < n; i++) {
      const k = this.rnd() < 0.7 ? this.pick(keys) : this.randomString();
      Object.defineProperty(o, k, { value: this.randomValue(depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return o;
  }

  /** A copy with some arrays shuffled, some items duplicated and random values added. */
  mutate(v: unknown, depth: number): unknown {
    if (Array.isArray(v)) {
      let items = v.map((x) => this.mutate(x, depth + 1));
      if (this.rnd() < 0.5) {
        for (let i = items.length - 1; i > 0; i--) {
          const j = Math.floor(this.rnd() * (i + 1));
          [items[i], items[j]] = [items[j], items[i]];
        }
      }
      if (items.length > 0 && this.rnd() < 0.1) items.push(items[0]);
      if (this.rnd() < 0.05) items = [...items, this.randomValue(depth)];
      return items;
    }
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        Object.defineProperty(o, k, { value: this.mutate(x, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      if (this.rnd() < 0.03) {
        const k = this.rnd() < 0.5 ? this.pick(['hostname', 'scan_duration_ms', 'components', 'hashes', 'name', 'purl']) : this.randomString();
        if (!(k in o)) Object.defineProperty(o, k, { value: this.randomValue(depth), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    if (typeof v === 'string' && this.rnd() < 0.02) return v + this.randomString();
    return v;
  }

  ws(): string {
    return this.rnd() < 0.7 ? '' : this.pick([' ', '\n', '\t', '\r\n  ', '  ']);
  }

  printString(s: string): string {
    if (this.rnd() < 0.8) return JSON.stringify(s);
    let out = '"';
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      if (ch === '"' || ch === '\\' || c < 0x20 || this.rnd() < 0.3) {
        if (ch === '/' && this.rnd() < 0.5) out += '\\/';
        else {
          // An astral character as its surrogate pair; hex digits in either case.
          const hex = ch.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
          out += this.rnd() < 0.5 ? hex : hex.toUpperCase().replace(/\\U/g, '\\u');
        }
      } else out += ch;
    }
    return out + '"';
  }

  printNumber(n: number): string {
    const forms = [String(n), n.toExponential(), n.toExponential().toUpperCase()];
    if (Number.isInteger(n) && Math.abs(n) < 1e15) forms.push(`${n}.0`, `${n}e0`, `${n}.000E+0`);
    if (Object.is(n, -0)) forms.push('-0', '-0.0', '-0e5');
    return this.pick(forms.filter((f) => Object.is(Number(f), n) || (n === 0 && Number(f) === 0)));
  }

  print(v: unknown, depth: number): string {
    if (typeof v === 'string') return this.printString(v);
    if (typeof v === 'number') return this.printNumber(v);
    if (v === null || typeof v !== 'object') return String(v);
    if (Array.isArray(v)) return `[${v.map((x) => this.ws() + this.print(x, depth + 1) + this.ws()).join(',')}]`;
    const entries = Object.entries(v);
    if (this.rnd() < 0.5) {
      for (let i = entries.length - 1; i > 0; i--) {
        const j = Math.floor(this.rnd() * (i + 1));
        [entries[i], entries[j]] = [entries[j], entries[i]];
      }
    }
    return `{${entries.map(([k, x]) => `${this.ws()}${this.printString(k)}${this.ws()}:${this.ws()}${this.print(x, depth + 1)}${this.ws()}`).join(',')}}`;
  }
}
