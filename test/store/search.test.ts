// `/` search over vulnerability ids, aliases, package names and purls (issue 13, item 6): the term
// index written at ingest (migration 004), compared with a brute-force reading of every stored
// diff_summary; the backfill of an index built before 004; the one parser for `/` and retag --filter.
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../store/sqlite-store.js';
import { parseFilter, parseFilterOrThrow } from '../../src/core/filter/index.js';
import { packageNamesOf, searchTermsOf } from '../../src/core/filter/terms.js';
import { advisories, seed } from '../tui/seed.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('stella-search-');

/** Ids whose stored summary names `needle` (case-insensitive) as a whole JSON string or its prefix, newest first. */
function bruteForce(dbPath: string, match: (s: string) => boolean): string[] {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT replay_id, diff_summary_json FROM replay_runs ORDER BY finished_at DESC, replay_id DESC').all() as Array<{ replay_id: string; diff_summary_json: string | null }>;
  db.close();
  const strings = (x: unknown): string[] => (typeof x === 'string' ? [x] : Array.isArray(x) ? x.flatMap(strings) : x && typeof x === 'object' ? Object.values(x).flatMap(strings) : []);
  return rows.filter((r) => r.diff_summary_json && strings(JSON.parse(r.diff_summary_json)).some(match)).map((r) => r.replay_id);
}

async function allPages(store: ReturnType<typeof openStore>, text: string): Promise<string[]> {
  const filter = parseFilterOrThrow(text);
  const out: string[] = [];
  let page = await store.pageReplays({ filter, sort: 'newest', limit: 7 });
  out.push(...page.rows.map((r) => r.replay_id));
  while (page.hasMoreAfter) {
    const last = page.rows[page.rows.length - 1];
    page = await store.pageReplays({ filter, sort: 'newest', limit: 7, after: { key: [last.finished_at], id: last.replay_id } });
    out.push(...page.rows.map((r) => r.replay_id));
  }
  return out;
}

describe('search terms', () => {
  test('a purl yields itself and its package name; scoped npm names keep their scope', () => {
    expect(packageNamesOf('pkg:npm/cookie@0.6.0')).toEqual(['cookie']);
    expect(packageNamesOf('pkg:npm/%40babel/traverse@7.23.0')).toEqual(['traverse', '@babel/traverse']);
    expect(packageNamesOf('pkg:golang/github.com/gin-gonic/gin@v1.9.0')).toEqual(['gin', 'github.com/gin-gonic/gin']);
    expect(packageNamesOf('CVE-2024-47764')).toEqual([]);
    const terms = searchTermsOf({
      items: [{ kind: 'vulnerability', vulnerability_id: 'CVE-2024-47764', purl: 'pkg:npm/cookie@0.6.0', evidence: [{ kind: 'feed_finding', records: [{ id: 'GHSA-pxg6-pf52-xh8x', change: 'added' }] }] }],
      warnings: ['not a term'],
    });
    expect(terms).toEqual(['cookie', 'cve-2024-47764', 'ghsa-pxg6-pf52-xh8x', 'pkg:npm/cookie@0.6.0']);
  });

  test('purls and vulnerability ids parse as search words in the one filter language', () => {
    expect(parseFilter('pkg:npm/cookie@0.6.0 failing').filter).toEqual({ text: 'pkg:npm/cookie@0.6.0', failingOnly: true });
    expect(parseFilter('CVE-2024-47764 eco:npm')).toEqual({ filter: { text: 'CVE-2024-47764', ecosystem: 'npm' }, errors: [] });
  });
});

describe('search in the index', () => {
  const dbPath = path.join(dir, 'index.db');

  test('GHSA ids, CVE aliases, package names, purls and prefixes find exactly the replays that name them, page by page', async () => {
    const store = openStore(dbPath);
    await seed(store, 300);
    const adv = advisories();
    const withCve = adv.find((a) => a.aliases.some((x) => x.startsWith('CVE-')))!;
    const cve = withCve.aliases.find((x) => x.startsWith('CVE-'))!;
    const h = new Database(dbPath, { readonly: true });
    const json = h.prepare('SELECT diff_summary_json FROM replay_runs WHERE instr(diff_summary_json, ?) ORDER BY replay_id LIMIT 1').pluck().get(`"${withCve.id}"`) as string;
    h.close();
    const purl = (JSON.parse(json) as { items: Array<{ purl?: string }> }).items[0].purl!;
    const eq = (n: string) => (s: string) => s.toLowerCase() === n.toLowerCase();
    const cases: Array<[string, (s: string) => boolean]> = [
      [withCve.id, eq(withCve.id)],
      [withCve.id.toLowerCase(), eq(withCve.id)],
      [cve, eq(cve)],
      [withCve.pkg, (s) => s.toLowerCase() === withCve.pkg.toLowerCase() || (s.startsWith('pkg:') && packageNamesOf(s).some((n) => n.toLowerCase().startsWith(withCve.pkg.toLowerCase())))],
      [purl, eq(purl)],
      [purl.slice(0, purl.indexOf('@')), (s) => s.toLowerCase().startsWith(purl.slice(0, purl.indexOf('@')).toLowerCase())],
      ['GHSA-', (s) => s.startsWith('GHSA-')],
    ];
    for (const [q, match] of cases) {
      const want = bruteForce(dbPath, match);
      expect(want.length, q).toBeGreaterThan(0);
      expect(await allPages(store, q), q).toEqual(want);
      const counts = await store.countReplays(parseFilterOrThrow(q));
      expect(counts.total, q).toBe(want.length);
    }
    expect(await allPages(store, 'CVE-1900-0000')).toEqual([]);
    await store.close();
  });

  test('an index built before migration 004 gets its terms on first open, and a re-ingest replaces them', async () => {
    const db = new Database(dbPath);
    const before = db.prepare('SELECT term, replay_id FROM replay_terms ORDER BY 1, 2').raw().all();
    expect(before.length).toBeGreaterThan(100);
    db.exec('DROP TABLE replay_terms');
    db.pragma('user_version = 3');
    db.close();
    const store = openStore(dbPath);
    await store.close();
    const after = new Database(dbPath, { readonly: true });
    expect(after.prepare('SELECT term, replay_id FROM replay_terms ORDER BY 1, 2').raw().all()).toEqual(before);
    after.close();
  });
});
