// The sampler's rank is PostgreSQL's hashtextextended, reproduced in the core (src/core/sample/pg-hash.ts)
// so the team store can cut by rank in SQL: the two must agree on every text and seed.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { hashTextExtended } from '../../src/core/sample/pg-hash.js';
import { RANK_SPAN, sampleRank } from '../../src/core/sample/index.js';
import { mulberry32 } from '../../src/core/seeded-random.js';
import { requirePostgres } from '../helpers/postgres.js';

const server = requirePostgres();

describe('hashtextextended in the core', () => {
  it('equals the server on 4,000 texts of 0–60 bytes (ASCII, Latin, CJK, emoji), seeds 0 to 2^32 - 1', async () => {
    const rnd = mulberry32(16);
    const alphabet = ['a', 'Z', '0', '_', ' ', '-', 'é', 'ß', '✓', '漢', '😀', '\u0001', '~'];
    const texts: string[] = [];
    const seeds: number[] = [];
    for (let i = 0; i < 4000; i++) {
      let t = i % 3 === 0 ? `scan_${i.toString(16).padStart(10, '0')}` : '';
      const len = Math.floor(rnd() * 40);
      for (let j = 0; j < len && i % 3 !== 0; j++) t += alphabet[Math.floor(rnd() * (i % 2 ? 4 : alphabet.length))];
      texts.push(t);
      seeds.push(i % 7 === 0 ? 0 : i % 11 === 0 ? 0xffffffff : Math.floor(rnd() * 2 ** 32));
    }
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    try {
      const r = await c.query<{ h: string }>(
        'SELECT hashtextextended(t COLLATE "C", s::int8)::text AS h FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(t, s, o) ORDER BY o',
        [texts, seeds.map(String)],
      );
      const want = r.rows.map((x) => x.h);
      const got = texts.map((t, i) => {
        const [hi, lo] = hashTextExtended(t, seeds[i]);
        return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      });
      expect(got).toEqual(want);
      // The rank is that int8 plus 2^63, its top 52 bits.
      for (const i of [0, 1, 2, 3, 100, 3999]) expect(BigInt(sampleRank(seeds[i], texts[i]))).toBe((BigInt(want[i]) + 2n ** 63n) >> 12n);
    } finally {
      await c.end();
    }
  });

  it('ranks spread over [0, 2^52)', () => {
    const ranks = Array.from({ length: 20000 }, (_, i) => sampleRank(7, `scan_${i}`));
    expect(Math.min(...ranks)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ranks)).toBeLessThan(RANK_SPAN);
    const quarters = [0, 0, 0, 0];
    for (const r of ranks) quarters[Math.floor((r / RANK_SPAN) * 4)]++;
    for (const q of quarters) expect(Math.abs(q - 5000)).toBeLessThan(400);
  });
});
