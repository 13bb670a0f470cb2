// Golden files, one per fixture and format, compared byte for byte after redaction (test/golden/redact.ts):
// CycloneDX, OpenVEX, findings and verdict from scanning every canary fixture's real input; and from
// one generated index: the diff summary and the ticket (`stella ticket --json`), the Prometheus text
// (`stella metrics`), the badge (JSON and SVG) and the gate's JUnit. Regenerate with
// `UPDATE_GOLDEN=1 npx vitest run test/golden` (DEVELOPERS.md).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_NAMES, ARTIFACT_PATHS } from '../../src/core/formats.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { readCanarySet, readGoldens, regenerate, storeCanaryBlobs, type Golden } from '../../src/app/canary.js';
import { REPO, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRecord, realisticSpecs, writeRecord } from '../../bench/gen-records.js';
import { redact, type Redaction } from './redact.js';

const GOLDEN = path.join(REPO, 'test/golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const NOW = '2026-01-31T12:00:00Z';

/** Compare with (or, under UPDATE_GOLDEN=1, write) test/golden/<rel>. */
function golden(rel: string, text: string, redactions: readonly Redaction[] = []): void {
  const file = path.join(GOLDEN, rel);
  const got = redact(text, redactions);
  if (UPDATE) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, got);
    return;
  }
  if (!existsSync(file)) throw new Error(`no golden ${path.relative(REPO, file)}: run UPDATE_GOLDEN=1 npx vitest run test/golden`);
  expect(got, `${rel} differs from its golden (UPDATE_GOLDEN=1 regenerates it after an intended change)`).toBe(readFileSync(file, 'utf8'));
}

describe('goldens: the four artifacts of every canary fixture', () => {
  const home = tempDir('stella-golden-');
  const blobs = new BlobStore(home);
  const set = readCanarySet(path.join(REPO, 'fixtures/canaries'));
  const goldens: Golden[] = readGoldens(path.join(REPO, 'fixtures/canaries'), set);

  beforeAll(async () => {
    await storeCanaryBlobs(set, goldens, blobs);
  }, 240_000);

  for (const g of goldens) {
    it(`${g.entry.id}: CycloneDX, OpenVEX, findings, verdict`, async () => {
      const bytes = await regenerate(g, blobs);
      for (const n of ARTIFACT_NAMES) golden(`canaries/${g.entry.id}/${path.basename(ARTIFACT_PATHS[n])}`, bytes[n].toString('utf8'), [{ value: home, placeholder: '<HOME>' }]);
    }, 120_000);
  }
});

describe('goldens: index reports (ticket, diff summary, Prometheus, badge, JUnit)', () => {
  const work = tempDir('stella-golden-index-');
  const records = path.join(work, 'records');
  const db = path.join(work, 'index.db');
  // The ticket's repro line names this checkout and this node by absolute path: both differ per machine.
  const redactions: Redaction[] = [
    { value: work, placeholder: '<WORK>' },
    { value: REPO, placeholder: '<REPO>' },
    { value: process.execPath, placeholder: '<NODE>' },
  ];
  let failedId = '';

  beforeAll(async () => {
    const specs = realisticSpecs(200, new Date(NOW), 7);
    for (const s of specs) writeRecord(records, makeRecord(s));
    failedId = makeRecord(specs.find((s) => s.outcome === 'failed')!).replay.replay_id;
    const r = await runStella(['index', records, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('ticket: markdown and --json; diff_summary', async () => {
    const md = await runStella(['ticket', failedId, '--db', db]);
    expect(md.code, md.stderr).toBe(0);
    golden('index/ticket.md', md.stdout, redactions);
    const j = await runStella(['ticket', failedId, '--db', db, '--json']);
    expect(j.code, j.stderr).toBe(0);
    golden('index/ticket.json', j.stdout, redactions);
    golden('index/diff_summary.json', JSON.stringify((JSON.parse(j.stdout) as { diff_summary: unknown }).diff_summary, null, 2) + '\n', redactions);
  });

  it('Prometheus text (stella metrics)', async () => {
    const r = await runStella(['metrics', '--db', db, '--now', NOW]);
    expect(r.code, r.stderr).toBe(0);
    golden('index/metrics.prom', r.stdout, redactions);
  });

  it('badge: shields JSON and SVG', async () => {
    for (const [flag, file] of [['--json', 'badge.json'], ['--svg', 'badge.svg']] as const) {
      const r = await runStella(['badge', flag, '--db', db, '--now', NOW]);
      expect(r.code, r.stderr).toBe(0);
      golden(`index/${file}`, r.stdout, redactions);
    }
  });

  it('gate --junit', async () => {
    const junit = path.join(work, 'gate.xml');
    const r = await runStella(['gate', '--db', db, '--now', NOW, '--junit', junit]);
    expect([0, 1, 3]).toContain(r.code);
    golden('index/gate.junit.xml', readFileSync(junit, 'utf8'), redactions);
  });
});
