import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJsonBytes, parseJsonText, pathAtOffset } from '../../src/core/json/parse.js';
import { THIRD_PARTY } from '../helpers/cli.js';

const catchMsg = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { oneLine(): string }).oneLine();
  }
  throw new Error('expected an error');
};

describe('strict JSON parsing', () => {
  it('parses real documents unchanged', () => {
    const f = path.join(THIRD_PARTY, 'sboms/cyclonedx/sbomqs-with-vulns.gomod.cdx-1.6.json');
    const bytes = readFileSync(f);
    expect(parseJsonBytes(bytes, f)).toEqual(JSON.parse(bytes.toString('utf8')));
  });

  it('names the path where a truncated document stopped', () => {
    const f = path.join(THIRD_PARTY, 'sboms/cyclonedx/sbomqs-with-vulns.gomod.cdx-1.6.json');
    const text = readFileSync(f, 'utf8');
    const cut = text.lastIndexOf('"components"');
    const partial = text.slice(0, text.indexOf('"version"', cut) + 4);
    const msg = catchMsg(() => parseJsonText(partial, 'x.json'));
    expect(msg).toMatch(/^x\.json: \$\.components\[0\]: truncated JSON/);
  });

  it('names the path of a syntax error in the middle', () => {
    expect(catchMsg(() => parseJsonText('{"a": {"b": [1, 2, oops]}}', 'y.json'))).toMatch(/^y\.json: \$\.a\.b\[2\]: malformed JSON/);
  });

  it('tracks odd keys and escaped quotes', () => {
    const t = '{"we\\"ird key": {"x y": [0, {"z": ';
    expect(pathAtOffset(t, t.length)).toBe('$["we\\"ird key"]["x y"][1].z');
  });

  it('rejects invalid UTF-8 with the byte offset', () => {
    const bytes = Buffer.from('{"name": "caf\u00e9"}', 'utf8');
    const bad = Buffer.concat([bytes.subarray(0, 13), Buffer.from([0xc3, 0x28]), bytes.subarray(15)]);
    expect(catchMsg(() => parseJsonBytes(bad, 'z.json'))).toBe('z.json: $: invalid UTF-8 at byte 13');
  });
});
