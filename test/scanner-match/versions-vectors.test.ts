// Every comparison line of every vector file in fixtures/third_party/versions/ against our comparators.
import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../src/scanner/versions/index.js';
import { SCALIBR_SUITE, failures, readVectorFile } from './vectors.js';

const show = (ecosystem: string, ls: ReturnType<typeof readVectorFile>) =>
  ls.slice(0, 20).map((l) => `${l.file}:${l.line} ${l.a} ${l.op} ${l.b} got ${Math.sign(compareVersions(ecosystem, l.a, l.b))}`);

describe('osv-scalibr semantic/testdata (the peer suite)', () => {
  for (const { ecosystem, file } of SCALIBR_SUITE) {
    it(`${ecosystem}: every line of ${file}`, () => {
      const lines = readVectorFile(`osv-scalibr/${file}`);
      expect(lines.length).toBeGreaterThan(5);
      const bad = failures(lines, (a, b) => compareVersions(ecosystem, a, b));
      if (process.env.VECTOR_COUNTS) console.log(`VECTORS ${ecosystem} ${file} ${lines.length - bad.length}/${lines.length}`);
      expect(show(ecosystem, bad)).toEqual([]);
    });
  }
});
