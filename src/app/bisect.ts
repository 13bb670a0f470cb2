// `stella replay --from A --bisect B`: replay A with B's pins swapped in one at a time (then together)
// and report which swap reproduces B. Each trial is a real replay record kept under the out dir.
import type { Digest, ScanManifest } from '../core/formats.js';
import {
  bisectTrials,
  judgeBisect,
  planBisect,
  semanticallyDiffering,
  type BisectPlan,
  type BisectVerdict,
  type SwapKey,
  type TrialOutcome,
} from '../core/classify/bisect.js';
import { compareDirs } from './compare.js';
import { loadRecord } from './record.js';
import { readManifestFile } from './manifest-file.js';
import { replay, type ReplayOptions, type WhatIf } from './replay.js';
import { StellaError } from '../core/errors.js';
import path from 'node:path';

export interface BisectResult {
  a: string;
  b: string;
  plan: BisectPlan;
  verdict: BisectVerdict;
  /** Replay record directory of each trial, in trial order. */
  trial_dirs: Array<string | null>;
}

export async function bisect(o: Omit<ReplayOptions, 'whatIf' | 'manifestPath'> & { manifestPath: string; targetDir: string }): Promise<BisectResult> {
  const aManifest = readManifestFile(o.manifestPath);
  const bRecord = loadRecord(o.targetDir);
  const plan = planBisect(aManifest, bRecord.manifest);
  if (o.executor.kind === 'local' && plan.swaps.some((s) => s.key === 'scanner')) {
    // The local executor always runs this checkout's scanner: a scanner swap needs the image.
    throw new StellaError('USAGE', 'the scanners differ: bisecting a scanner swap needs --executor docker (the local executor runs the current scanner)');
  }
  const compare = async (x: string) => semanticallyDiffering((await compareDirs(x, o.targetDir, { force: true, blobs: o.blobs })).comparison);
  const differs = await compare(path.dirname(o.manifestPath));
  const outcomes: TrialOutcome[] = [];
  const dirs: Array<string | null> = [];
  for (const swap of bisectTrials(plan)) {
    const whatIf: WhatIf = {};
    for (const key of swap) whatIf[key] = pinFor(bRecord.manifest, key) as Digest;
    const r = await replay({ ...o, whatIf });
    dirs.push(r.dir);
    const ran = r.dir !== null && r.record.status !== 'error';
    outcomes.push({ swap, remaining: ran ? await compare(r.dir as string) : null, ...(r.record.error ? { error: r.record.error } : {}) });
  }
  const verdict = judgeBisect(differs, plan, outcomes);
  return { a: o.manifestPath, b: o.targetDir, plan, verdict, trial_dirs: dirs };
}

function pinFor(m: ScanManifest, key: SwapKey): string {
  return key === 'feed' ? m.feeds.vuln_feed_bundle_digest : key === 'policy' ? m.policy.policy_bundle_digest : m.scanner.scanner_image_digest;
}

export function renderBisect(r: BisectResult): string {
  const lines = [`bisect ${r.a} → ${r.b}`];
  if (r.plan.swaps.length) lines.push(`pins that differ: ${r.plan.swaps.map((s) => `${s.key} ${s.from.slice(0, 19)}… → ${s.to.slice(0, 19)}…`).join(', ')}`);
  for (const u of r.plan.unswappable) lines.push(`not swappable: ${u.path} ${JSON.stringify(u.a)} → ${JSON.stringify(u.b)}`);
  r.verdict.trials.forEach((t, i) => {
    const res = t.remaining === null ? `error: ${t.error ?? 'no outputs'}` : t.full ? 'reproduces B' : t.reproduces.length ? `reproduces ${t.reproduces.join(', ')}` : 'reproduces nothing';
    lines.push(`  swap ${t.swap.join(' + ').padEnd(22)} ${res}${r.trial_dirs[i] ? `  (${r.trial_dirs[i]})` : ''}`);
  });
  lines.push(`verdict: ${r.verdict.explanation}`);
  return lines.join('\n') + '\n';
}
