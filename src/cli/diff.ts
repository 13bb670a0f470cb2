// `stella diff --a DIR --b DIR --mode bf|sf|pf [--json] [--raw]`: exit 0 when the chosen level matches,
// 1 when it differs, 2 on error (as diff(1)). The report always carries the cause classification.
import path from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import type { CliContext, Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { canonicalTextDiff } from '../app/text-diff.js';
import { explainParagraph } from '../core/classify/index.js';
import { ARTIFACT_PATHS } from '../core/formats.js';
import { BlobStore } from '../adapters/blob-store.js';
import { compareDirs, type CompareResult } from '../app/compare.js';

export type Level = 'bf' | 'sf' | 'pf';
const LEVELS: readonly Level[] = ['bf', 'sf', 'pf'];

/** Colour only when allowed: never with NO_COLOR or --no-color, otherwise for a terminal or FORCE_COLOR. */
export function chalkFor(ctx: CliContext, noColor: boolean): ChalkInstance {
  const off = noColor || (ctx.env.NO_COLOR !== undefined && ctx.env.NO_COLOR !== '');
  const on = !off && (Boolean(ctx.stdout.isTTY) || (ctx.env.FORCE_COLOR !== undefined && ctx.env.FORCE_COLOR !== '0'));
  return new Chalk({ level: on ? 1 : 0 });
}

const recordName = (r: CompareResult['a']): string => (r.replay ? `replay ${r.replay.replay_id}` : `scan ${r.manifest.scan_id}`);
const purlName = (purl: string): string => purl.replace(/^pkg:[^/]+\//, '').replace(/%40/g, '@');

/** The text report: levels, cause, packages, vulnerabilities, VEX, verdict. Markers `+ - ~` always. */
export function renderReport(res: CompareResult, mode: Level, c: ChalkInstance): string {
  const { comparison: cmp, classification: cls } = res;
  const out: string[] = [];
  const add = c.green;
  const del = c.red;
  const chg = c.yellow;
  out.push(`A: ${res.a.dir}  (${recordName(res.a)})`);
  out.push(`B: ${res.b.dir}  (${recordName(res.b)})`);
  for (const l of LEVELS) {
    const mark = cmp[l].match ? c.green('= match  ') : c.red('! differs');
    out.push(`${l === mode ? '>' : ' '} ${l.toUpperCase()}  ${mark}`);
  }
  for (const art of cmp.bf.artifacts) {
    const m = art.canonical_equal ? (art.raw_equal ? '=' : '≈') : '~';
    const line = `    ${m} ${art.name.padEnd(8)} ${art.a.slice(0, 19)}… ${art.canonical_equal ? '' : `→ ${art.b.slice(0, 19)}…`}`.trimEnd();
    out.push(art.canonical_equal ? line : chg(line));
  }
  const tag = cls.mismatch_reason ? `${cls.mismatch_reason}${cls.subtags.length ? ` [${cls.subtags.join(', ')}]` : ''}` : 'none (records match bitwise)';
  out.push('', c.bold(`cause: ${tag}`) + `  (classifier ${cls.classifier_version})`);
  out.push(explainParagraph(cmp, cls, { a: 'A', b: 'B' }));

  const p = cmp.sf.packages;
  if (p.added.length + p.removed.length + p.changed.length) {
    out.push('', c.bold(`packages: +${p.added.length} -${p.removed.length} ~${p.changed.length}`));
    for (const x of p.added) out.push(add(`  + ${x.key} ${x.versions.join(', ')}`));
    for (const x of p.removed) out.push(del(`  - ${x.key} ${x.versions.join(', ')}`));
    for (const x of p.changed) out.push(chg(`  ~ ${x.key} ${x.a.join(', ')} → ${x.b.join(', ')}`));
  }
  const v = cmp.sf.vulnerabilities;
  if (v.appeared.length + v.disappeared.length + v.severity_changed.length + v.fix_changed.length) {
    const feedWhy = new Map<string, string>();
    for (const e of cls.evidence) {
      if (e.kind === 'feed_finding' && e.records.length) feedWhy.set(`${e.vulnerability_id} ${e.purl}`, e.records.map((r) => `${r.change} ${r.id}`).join(', '));
    }
    const why = (id: string, purl: string) => (feedWhy.has(`${id} ${purl}`) ? `  ← feed ${feedWhy.get(`${id} ${purl}`)}` : '');
    out.push('', c.bold(`vulnerabilities: +${v.appeared.length} -${v.disappeared.length} ~${v.severity_changed.length + v.fix_changed.length}`));
    for (const x of v.appeared) out.push(add(`  + ${x.vulnerability_id} ${purlName(x.purl)} (${x.severity})`) + why(x.vulnerability_id, x.purl));
    for (const x of v.disappeared) out.push(del(`  - ${x.vulnerability_id} ${purlName(x.purl)} (${x.severity})`) + why(x.vulnerability_id, x.purl));
    for (const x of v.severity_changed) out.push(chg(`  ~ ${x.vulnerability_id} ${purlName(x.purl)} severity ${x.a} → ${x.b}`) + why(x.vulnerability_id, x.purl));
    for (const x of v.fix_changed) out.push(chg(`  ~ ${x.vulnerability_id} ${purlName(x.purl)} fixed in [${x.a.join(', ')}] → [${x.b.join(', ')}]`) + why(x.vulnerability_id, x.purl));
  }
  if (cmp.sf.vex.status_flips.length) {
    out.push('', c.bold(`vex: ~${cmp.sf.vex.status_flips.length} status flips`));
    for (const f of cmp.sf.vex.status_flips) out.push(chg(`  ~ ${f.vulnerability} ${f.product} ${f.a ?? '(none)'} → ${f.b ?? '(none)'}`));
  }
  const vd = cmp.sf.verdict;
  if (!vd.match) {
    out.push('', c.bold(`verdict: ${vd.a === vd.b ? vd.a : `${vd.a} → ${vd.b}`}`));
    for (const r of vd.reasons.added) out.push(add(`  + ${r.code} ${r.subject}`));
    for (const r of vd.reasons.removed) out.push(del(`  - ${r.code} ${r.subject}`));
  }
  if (cmp.warnings.length) out.push('', c.yellow(`warnings: ${cmp.warnings.join(', ')}`));
  return out.join('\n') + '\n';
}

export function renderRaw(res: CompareResult): string {
  const parts: string[] = [];
  for (const art of res.comparison.bf.artifacts) {
    if (art.canonical_equal) continue;
    const x = res.a.artifacts[art.name];
    const y = res.b.artifacts[art.name];
    parts.push(canonicalTextDiff(x.schema, `a/${ARTIFACT_PATHS[art.name]}`, x.doc, `b/${ARTIFACT_PATHS[art.name]}`, y.doc));
  }
  return parts.join('');
}

/** Errors name files under the directories as the user typed them, not as resolved against cwd. */
export async function withTypedPaths<T>(cwd: string, typed: string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof StellaError && e.file) {
      for (const t of typed) {
        const abs = path.resolve(cwd, t);
        if (e.file === abs || e.file.startsWith(abs + path.sep)) {
          throw new StellaError(e.code, e.message, { file: path.join(t, path.relative(abs, e.file)), path: e.path }, { cause: e });
        }
      }
    }
    throw e;
  }
}

const command: Command = {
  name: 'diff',
  summary: 'compare two scan/replay records bitwise, semantically or by policy',
  usage: 'diff --a DIR --b DIR [--mode bf|sf|pf] [--json] [--raw] [--no-color] [--force]',
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    mode: { type: 'string', default: 'bf' },
    json: { type: 'boolean' },
    raw: { type: 'boolean' },
    'no-color': { type: 'boolean' },
    force: { type: 'boolean' },
  },
  optionHelp: {
    a: 'the original scan (or replay) record directory',
    b: 'the record to compare with it',
    mode: 'which level decides the exit code: bf (bitwise, default), sf (semantic), pf (policy)',
    json: 'print {comparison, classification, diff_summary} as JSON',
    raw: 'also print the unified diff of the canonical text of every differing artifact',
    'no-color': 'no colours (also when NO_COLOR is set); the + - ~ markers stay',
    force: 'compare records of two different scans',
  },
  positionals: false,
  async run({ values }, ctx) {
    const a = values.a;
    const b = values.b;
    if (typeof a !== 'string' || typeof b !== 'string') throw new StellaError('USAGE', 'diff needs --a DIR and --b DIR (see stella diff --help)');
    const mode = String(values.mode) as Level;
    if (!LEVELS.includes(mode)) throw new StellaError('USAGE', `unknown --mode '${mode}': expected bf|sf|pf`);
    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    const res = await withTypedPaths(ctx.cwd, [a, b], () => compareDirs(path.resolve(ctx.cwd, a), path.resolve(ctx.cwd, b), { blobs, force: Boolean(values.force) }));
    res.a.dir = a;
    res.b.dir = b;
    if (values.json) {
      const body: Record<string, unknown> = { mode, match: res.comparison[mode].match, comparison: res.comparison, classification: res.classification, diff_summary: res.diff_summary };
      if (values.raw) body.raw = renderRaw(res);
      ctx.stdout.write(JSON.stringify(body, null, 2) + '\n');
    } else {
      ctx.stdout.write(renderReport(res, mode, chalkFor(ctx, Boolean(values['no-color']))));
      if (values.raw) ctx.stdout.write('\n' + renderRaw(res));
    }
    return res.comparison[mode].match ? EXIT.OK : EXIT.DIFFERS;
  },
};

export default command;
