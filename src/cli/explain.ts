// `stella explain REPLAY_DIR [--original DIR] [--json]`: the one-paragraph answer to "why did this replay
// not match?" — cause, evidence, verdict change.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { explainParagraph } from '../core/classify/index.js';
import { BlobStore } from '../adapters/blob-store.js';
import { compareLoaded } from '../app/compare.js';
import { loadRecord } from '../app/record.js';
import { withTypedPaths } from './diff.js';

/**
 * Where the original record is, when not named: replay.json does not record the directory, so look
 * for it by scan id beside the replay (`<root>/<scan_id>/` and `<root>/<replay_id>/` as `stella replay
 * --out-dir` lays them out), then one level up.
 */
export function findOriginal(replayDir: string, scanId: string): string | null {
  const candidates = [path.join(path.dirname(replayDir), scanId), path.join(path.dirname(path.dirname(replayDir)), scanId)];
  return candidates.find((c) => existsSync(path.join(c, 'manifest.json'))) ?? null;
}

const command: Command = {
  name: 'explain',
  summary: 'explain why a replay did not match its original',
  usage: 'explain REPLAY_DIR [--original DIR] [--json]',
  options: {
    original: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    original: 'the original scan record (default: the directory named by the scan id beside the replay)',
    json: 'print {paragraph, classification, diff_summary} as JSON',
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new StellaError('USAGE', 'explain needs exactly one REPLAY_DIR (see stella explain --help)');
    const typed = positionals[0];
    const replayDir = path.resolve(ctx.cwd, typed);
    const originalTyped = typeof values.original === 'string' ? values.original : null;
    const res = await withTypedPaths(ctx.cwd, [typed, ...(originalTyped ? [originalTyped] : [])], async () => {
      const replay = loadRecord(replayDir);
      if (!replay.replay) throw new StellaError('RECORD_INVALID', 'not a replay record: replay.json is missing (use stella diff to compare two scans)', { file: path.join(replayDir, 'replay.json') });
      const origDir = originalTyped ? path.resolve(ctx.cwd, originalTyped) : findOriginal(replayDir, replay.replay.original_scan_id);
      if (!origDir) {
        throw new StellaError('NOT_FOUND', `original scan ${replay.replay.original_scan_id} not found beside the replay; pass --original DIR`, { file: path.join(replayDir, 'replay.json'), path: '$.original_scan_id' });
      }
      return compareLoaded(loadRecord(origDir), replay, { blobs: BlobStore.fromEnv(ctx.env, ctx.cwd) });
    });
    const names = { a: `scan ${res.a.manifest.scan_id}`, b: `replay ${res.b.replay!.replay_id}` };
    const paragraph = explainParagraph(res.comparison, res.classification, names);
    if (values.json) ctx.stdout.write(JSON.stringify({ paragraph, classification: res.classification, diff_summary: res.diff_summary }, null, 2) + '\n');
    else ctx.stdout.write(paragraph + '\n');
    return EXIT.OK;
  },
};

export default command;
