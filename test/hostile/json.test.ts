// B2, B3, B5 of issue 14: the JSON reader holds for hostile bytes — one invalid byte at the end of a
// large file is located in one pass, deep nesting is refused with file/path/depth instead of
// overflowing the stack, and a duplicate key is refused (a signed manifest cannot say two things).
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_JSON_DEPTH, parseJsonBytes, parseJsonText } from '../../src/core/json/parse.js';
import { makeRecord, writeRecord } from '../../bench/gen-records.js';
import { tempDir } from '../helpers/tmp.js';
import { REPO, runStella } from '../helpers/cli.js';
import { openStore } from '../../store/sqlite-store.js';

const dir = tempDir('stella-hostile-json-');
const oneLine = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { oneLine(): string }).oneLine();
  }
  throw new Error('expected an error');
};

describe('B2: invalid UTF-8 is located in one pass', () => {
  // On the old reader this took minutes (each byte re-decoded the whole prefix); the test's own
  // timeout is the hang bound, not a speed target.
  it('a 4 MiB document with one 0xff at the end names the byte', { timeout: 20_000 }, () => {
    const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) }), 'utf8');
    const bad = Buffer.concat([body.subarray(0, body.length - 2), Buffer.from([0xff]), body.subarray(body.length - 2)]);
    expect(oneLine(() => parseJsonBytes(bad, 'big.json'))).toBe(`big.json: $: invalid UTF-8 at byte ${body.length - 2}`);
    // Truncated and overlong sequences, surrogates: the first bad byte, as TextDecoder would see it.
    expect(oneLine(() => parseJsonBytes(Buffer.from([0x22, 0xe2, 0x82]), 'c.json'))).toBe('c.json: $: invalid UTF-8 at byte 1');
    expect(oneLine(() => parseJsonBytes(Buffer.from([0x22, 0xc0, 0xaf, 0x22]), 'o.json'))).toBe('o.json: $: invalid UTF-8 at byte 1');
    expect(oneLine(() => parseJsonBytes(Buffer.from([0x22, 0x61, 0xed, 0xa0, 0x80, 0x22]), 's.json'))).toBe('s.json: $: invalid UTF-8 at byte 2');
  });

  it('`stella index` over a 1 MiB replay.json with one 0xff skips and reports it', { timeout: 60_000 }, async () => {
    const root = path.join(dir, 'utf8');
    writeRecord(root, makeRecord({ i: 1, finishedAt: '2026-01-10T10:00:00Z', outcome: 'passed', prefix: 'good' }));
    const d = writeRecord(root, makeRecord({ i: 2, finishedAt: '2026-01-10T10:00:00Z', outcome: 'passed', prefix: 'bad' }));
    const f = path.join(d, 'replay.json');
    const text = readFileSync(f, 'utf8');
    const padded = Buffer.from(text.replace(/}\s*$/, `, "x_pad": "${'p'.repeat(1024 * 1024)}"}`), 'utf8');
    writeFileSync(f, Buffer.concat([padded.subarray(0, padded.length - 2), Buffer.from([0xff]), padded.subarray(padded.length - 2)]));
    const r = await runStella(['index', root, '--db', path.join(dir, 'utf8.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`stella index: ${f}: $: invalid UTF-8 at byte ${padded.length - 2}`);
    expect(r.stdout).toContain('1 skipped');
  });
});

describe('B3: nesting is bounded', () => {
  it(`10,000 levels: refused with file, path prefix and depth (limit ${MAX_JSON_DEPTH})`, () => {
    const deep = '{"a":'.repeat(3) + '['.repeat(10_000) + ']'.repeat(10_000) + '}'.repeat(3);
    const msg = oneLine(() => parseJsonText(deep, 'deep.json'));
    expect(msg).toMatch(new RegExp(`^deep\\.json: \\$\\.a\\.a\\.a\\[0\\]\\[0\\]\\[0\\]\\[0\\]\\[0\\]…: JSON nests deeper than ${MAX_JSON_DEPTH} levels \\(depth ${MAX_JSON_DEPTH + 1} reached\\)`));
    // Exactly at the limit is fine.
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(Array.isArray(parseJsonText(ok, 'ok.json'))).toBe(true);
  });

  it('`stella index` over four records, one with a 100k-deep value: three rows, one skip', { timeout: 60_000 }, async () => {
    const root = path.join(dir, 'deep');
    for (let i = 0; i < 3; i++) writeRecord(root, makeRecord({ i, finishedAt: '2026-01-10T10:00:00Z', outcome: 'passed', prefix: 'good' }));
    const d = writeRecord(root, makeRecord({ i: 9, finishedAt: '2026-01-10T10:00:00Z', outcome: 'passed', prefix: 'deep' }));
    const f = path.join(d, 'manifest.json');
    const text = readFileSync(f, 'utf8');
    writeFileSync(f, text.replace(/}\s*$/, `, "x_deep": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`));
    const db = path.join(dir, 'deep.db');
    const r = await runStella(['index', root, '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^stella index: ${f.replace(/[.+]/g, '\\$&')}: \\$\\.x_deep(\\[0\\])+…: JSON nests deeper than ${MAX_JSON_DEPTH} levels`));
    expect(r.stdout).toContain('1 skipped');
    const store = openStore(db, { readonly: true });
    expect((await store.countReplays({})).total).toBe(3);
    await store.close();
  });
});

describe('B5: duplicate keys are refused', () => {
  it('names the duplicate with its JSON path', () => {
    expect(oneLine(() => parseJsonText('{"a": {"b": 1, "c": [ {"x": 1, "y": 2, "x": 3} ]}}', 'd.json'))).toBe(
      'd.json: $.a.c[0].x: duplicate key "x" (I-JSON, RFC 7493, forbids duplicate names: the document would say two things)',
    );
    // Escapes are compared decoded: "\u0061" is "a".
    expect(oneLine(() => parseJsonText('{"a": 1, "\\u0061": 2}', 'e.json'))).toMatch(/^e\.json: \$\.a: duplicate key "a"/);
    expect(parseJsonText('{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}')).toEqual({ a: { a: { a: 1 } }, b: [{ a: 1 }, { a: 2 }] });
  });

  it('a signed manifest with a second `project` inserted before the real one: verify and replay refuse it', { timeout: 60_000 }, async () => {
    const keys = path.join(dir, 'keys');
    expect((await runStella(['manifest', 'keygen', '--out-dir', keys])).code).toBe(0);
    const scanDir = path.join(dir, 'signed');
    mkdirSync(scanDir);
    const m = path.join(scanDir, 'manifest.json');
    writeFileSync(m, readFileSync(path.join(REPO, 'fixtures/manifests/example.manifest.json')));
    expect((await runStella(['manifest', 'sign', m, '--key', path.join(keys, 'stella-signing.key')])).code).toBe(0);
    const pub = path.join(keys, 'stella-signing.pub');
    expect((await runStella(['manifest', 'verify', m, '--pub', pub])).code).toBe(0);
    const text = readFileSync(m, 'utf8');
    expect(text).toContain('"project"');
    writeFileSync(m, text.replace('"project"', '"project": "evil-project", "project"'));
    const bad = await runStella(['manifest', 'verify', m, '--pub', pub]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(new RegExp(`^stella manifest: ${m.replace(/[.+]/g, '\\$&')}: \\$(\\.\\w+)*\\.project: duplicate key "project"`));
    const rep = await runStella(['replay', '--from', m, '--out-dir', path.join(dir, 'replays'), '--executor', 'local']);
    expect(rep.code).toBe(2);
    expect(rep.stderr).toContain('duplicate key "project"');
  });
});
