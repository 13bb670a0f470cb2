// Evidence first (issue 13, item 8) in the pure reducer: the Diff screen's summary opens on the cause's
// evidence once it arrives, before the changed items; it is rewrapped on resize, kept across a
// re-read of the detail, shown in full by `i`, and a record that cannot be read says why.
import { describe, expect, test } from 'vitest';
import type { ReplayDetail } from '../../src/core/ports.js';
import type { CauseEvidence } from '../../src/core/classify/evidence.js';
import { initialState, reduce, type Action, type WorkstationState } from '../../components/workstation/use-workstation-state.js';
import { detailOf } from '../../components/workstation/detail.js';
import { advisories } from './seed.js';

const ID = 'rpl_0000000000000001';
const adv = advisories()[0];
const IMAGE_A = `sha256:${'a3'.repeat(32)}`;
const IMAGE_B = `sha256:${'7e'.repeat(32)}`;

const detail: ReplayDetail = {
  replay_id: ID,
  original_scan_id: 'scan_1',
  status: 'failed',
  bf_match: false,
  sf_match: false,
  pf_match: true,
  auto_reason: 'scanner_drift',
  human_tag: null,
  tag: 'scanner_drift',
  subtags: [],
  started_at: '2026-11-20T00:00:00.000Z',
  finished_at: '2026-11-20T00:00:00.000Z',
  duration_ms: 10,
  scanner_version: '0.2.0',
  ecosystem: 'npm',
  policy_set: 'prod-default',
  base_os: 'none',
  project: 'proj',
  feed_digest: 'sha256:00',
  regulated: false,
  executor_kind: 'docker',
  record_dir: null,
  diff_summary: { items: [{ kind: 'vulnerability', vulnerability_id: adv.id, purl: `pkg:npm/${adv.pkg}@1.0.0`, change: 'appeared', a: null, b: 'high', evidence: [] }] },
  ...{ manifest: null, executor: null, error: null, classifier_version: '1.0.0', evidence: null, manifest_sha256: null, warnings: [] },
};

const evidence: CauseEvidence = {
  cause: 'scanner_drift',
  subtags: [],
  headline: 'the replay ran another scanner (image, version or config)',
  groups: [
    { title: 'What differs', facts: [{ label: 'scanner image  $.scanner.scanner_image_digest', a: IMAGE_A, b: IMAGE_B }], more: 0 },
    { title: 'In the outputs', facts: [{ label: 'vex $.tooling  differs', a: 'stella 0.1.0', b: 'stella 0.2.0' }], more: 0 },
  ],
};

function run(s: WorkstationState, ...actions: Action[]): WorkstationState {
  return actions.reduce((st, a) => reduce(st, a).state, s);
}
const opened = (width = 80) => run(initialState({ width, height: 24, openId: ID }), { type: 'detail', id: ID, detail });
const texts = (s: WorkstationState) => s.diff!.lines.map((l) => ('text' in l ? l.text : l.kind === 'pair' ? l.label : ''));

describe('evidence first on the Diff screen', () => {
  test('the evidence goes before the changed items; n still steps over the changes only', () => {
    const before = opened();
    expect(texts(before).some((t) => t.startsWith('Evidence'))).toBe(false);
    const s = run(before, { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence } });
    const t = texts(s);
    const head = t.indexOf('Evidence for scanner_drift (- original, + replay)');
    const firstChange = s.diff!.lines.findIndex((l) => l.change);
    expect(head).toBe(1);
    expect(head).toBeLessThan(firstChange);
    expect(s.diff!.lines).toContainEqual({ kind: 'evidence', text: IMAGE_A, mark: '-', change: false });
    expect(s.diff!.lines).toContainEqual({ kind: 'evidence', text: IMAGE_B, mark: '+', change: false });
    expect(t).toContain('vex $.tooling  differs: stella 0.1.0 -> stella 0.2.0');
    const n = run(s, { type: 'key', token: 'n' });
    expect(n.diff!.focus).toBe(firstChange);
    // Evidence for another replay (a late answer) is dropped.
    expect(run(before, { type: 'evidence', id: 'rpl_other', evidence: { kind: 'ready', evidence } }).diff!.lines).toEqual(before.diff!.lines);
  });

  test('evidence that arrives after n keeps the focused change focused, on the same screen row', () => {
    const two: ReplayDetail = {
      ...detail,
      diff_summary: {
        items: [
          ...detail.diff_summary!.items,
          { kind: 'package', purl: `pkg:npm/${adv.pkg}`, change: 'changed', a: '1.0.0', b: '1.0.1', evidence: [] },
        ],
      },
    } as ReplayDetail;
    const before = run(initialState({ width: 80, height: 24, openId: ID }), { type: 'detail', id: ID, detail: two }, { type: 'key', token: 'n' }, { type: 'key', token: 'n' });
    const focused = before.diff!.lines[before.diff!.focus];
    expect(focused.change).toBe(true);
    const row = before.diff!.focus - before.diff!.scroll;
    const after = run(before, { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence } });
    expect(after.diff!.lines.length).toBeGreaterThan(before.diff!.lines.length);
    expect(after.diff!.focus).toBeGreaterThan(before.diff!.focus);
    expect(after.diff!.lines[after.diff!.focus]).toEqual(focused);
    expect(after.diff!.focus - after.diff!.scroll).toBe(row);
    // Nothing focused yet: the screen opens at the top, on the evidence.
    const fresh = run(initialState({ width: 80, height: 24, openId: ID }), { type: 'detail', id: ID, detail: two }, { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence } });
    expect([fresh.diff!.focus, fresh.diff!.scroll]).toEqual([-1, 0]);
  });

  test('a narrower terminal rewraps the evidence; a re-read detail keeps it', () => {
    const s = run(opened(120), { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence: { ...evidence, headline: `${evidence.headline} ${'and more words '.repeat(6).trim()}` } } });
    const wide = s.diff!.lines.filter((l) => l.kind === 'evidence').length;
    const narrow = run(s, { type: 'resize', width: 60, height: 24 });
    const lines = narrow.diff!.lines.filter((l) => l.kind === 'evidence');
    expect(lines.length).toBeGreaterThan(wide);
    for (const l of lines) expect(4 + ('text' in l ? l.text.length : 0)).toBeLessThanOrEqual(59);
    const again = run(narrow, { type: 'detail', id: ID, detail });
    expect(again.diff!.lines).toEqual(narrow.diff!.lines);
  });

  test('d/m and back return to the summary with its evidence; i shows it in full', () => {
    const s = run(opened(), { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence } });
    const back = run(s, { type: 'viewText', id: ID, view: 'raw', lines: [] }, { type: 'key', token: 'escape' });
    expect(back.diff!.view).toBe('summary');
    expect(back.diff!.lines).toEqual(s.diff!.lines);
    const pane = detailOf(s)!;
    expect(pane.lines).toContain('evidence: the replay ran another scanner (image, version or config)');
    expect(pane.lines).toContain(`  scanner image  $.scanner.scanner_image_digest: ${IMAGE_A} -> ${IMAGE_B}`);
  });

  test('much evidence and changes: the first screen shows the evidence head and the first change; the rest follows the changes', () => {
    const many: CauseEvidence = { ...evidence, groups: [{ title: 'What differs', facts: Array.from({ length: 10 }, (_, i) => ({ label: `policy rule $.rule${i}`, a: IMAGE_A, b: IMAGE_B })), more: 0 }] };
    const s = run(opened(), { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence: many } });
    const screen = s.diff!.lines.slice(0, 17);
    expect(screen.some((l) => l.kind === 'head' && l.text.startsWith('Evidence for scanner_drift'))).toBe(true);
    expect(screen.some((l) => l.change)).toBe(true);
    expect(screen.filter((l) => l.kind === 'evidence' && l.text.startsWith('policy rule')).length).toBeGreaterThan(0);
    expect(screen.some((l) => l.kind === 'evidence' && l.text === 'more evidence below the changes (j scrolls)')).toBe(true);
    // Nothing is dropped: every fact is somewhere on the screen's lines, the rest under "More evidence".
    const t = texts(s);
    for (let i = 0; i < 10; i++) expect(t).toContain(`policy rule $.rule${i}`);
    expect(t.indexOf('More evidence')).toBeGreaterThan(s.diff!.lines.findIndex((l) => l.change));
    // With no change to show, all of it goes first.
    const alone = run(initialState({ width: 80, height: 24, openId: ID }), { type: 'detail', id: ID, detail: { ...detail, diff_summary: { items: [] } } }, { type: 'evidence', id: ID, evidence: { kind: 'ready', evidence: many } });
    expect(texts(alone)).not.toContain('More evidence');
  });

  test('loading, then a record that cannot be read: the screen says why', () => {
    const loading = run(opened(), { type: 'evidence', id: ID, evidence: { kind: 'loading' } });
    expect(texts(loading)).toContain('reading the original and replay records...');
    const gone = run(loading, { type: 'evidence', id: ID, evidence: { kind: 'unavailable', reason: `replay ${ID} has no record directory in the index` } });
    // Wrapped at 80 columns, the whole reason is there.
    expect(texts(gone).join(' ').replace(/\s+/g, ' ')).toContain(`unavailable: replay ${ID} has no record directory in the index`);
    expect(texts(gone)).not.toContain('reading the original and replay records...');
  });
});
