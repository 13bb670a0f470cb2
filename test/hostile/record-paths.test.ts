// B1, reader side (issue 14): a record whose artifact is a symlink (to a valid artifact elsewhere, or to
// /etc/passwd) is refused by `stella diff` instead of followed; an outputs.json naming an absolute or
// escaping artifact path is skipped by `stella index`, which stores nothing of it.
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allFeed, buildRecord } from '../diff/records.js';
import { tempDir } from '../helpers/tmp.js';
import { runStella } from '../helpers/cli.js';
import { checkRecordPath } from '../../src/core/record-path.js';

const root = tempDir('stella-record-paths-');
const a = buildRecord(path.join(root, 'a'), { feed: allFeed() });

describe('record readers refuse linked, absolute and escaping artifact paths', () => {
  it('the pure rule', () => {
    expect(checkRecordPath('artifacts/sbom.cdx.json')).toEqual(['artifacts', 'sbom.cdx.json']);
    for (const bad of ['/etc/passwd', '../x.json', 'artifacts/../../x', 'artifacts//x', 'C:/x', 'a\\b', '', './x']) {
      expect(() => checkRecordPath(bad), bad).toThrowError(/artifact path/);
    }
  });

  for (const [name, target] of [['a valid artifact elsewhere', () => path.join(a.dir, 'artifacts/sbom.cdx.json')], ['/etc/passwd', () => '/etc/passwd']] as const) {
    it(`stella diff: an artifact symlinked to ${name} is refused, not followed`, { timeout: 60_000 }, async () => {
      const b = path.join(root, `b-${name.length}`);
      cpSync(a.dir, b, { recursive: true });
      rmSync(path.join(b, 'artifacts/sbom.cdx.json'));
      symlinkSync(target(), path.join(b, 'artifacts/sbom.cdx.json'));
      const r = await runStella(['diff', '--a', a.dir, '--b', b]);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([`stella diff: ${path.join(b, 'artifacts/sbom.cdx.json')}: is a symbolic link; refusing to follow it`]);
    });
  }

  it('stella index: an outputs.json naming /etc/passwd is skipped with its JSON path', { timeout: 60_000 }, async () => {
    const scans = path.join(root, 'scans');
    const c = path.join(scans, 'c');
    cpSync(a.dir, c, { recursive: true });
    const f = path.join(c, 'outputs.json');
    const o = JSON.parse(readFileSync(f, 'utf8'));
    o.sbom.path = '/etc/passwd';
    writeFileSync(f, JSON.stringify(o, null, 2));
    const r = await runStella(['index', scans, '--db', path.join(root, 'i.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`stella index: ${f}: $.sbom.path: artifact path "/etc/passwd" is absolute; a record names its files relative to its own directory`);
    expect(r.stdout).toContain('1 skipped');
  });

  it('stella index: a record whose manifest.json is a symlink is skipped, not followed', { timeout: 60_000 }, async () => {
    const scans = path.join(root, 'scans-link');
    const d = path.join(scans, 'd');
    cpSync(a.dir, d, { recursive: true });
    rmSync(path.join(d, 'manifest.json'));
    symlinkSync(path.join(a.dir, 'manifest.json'), path.join(d, 'manifest.json'));
    const r = await runStella(['index', scans, '--db', path.join(root, 'j.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`stella index: ${path.join(d, 'manifest.json')}: is a symbolic link; refusing to follow it`);
  });
});
