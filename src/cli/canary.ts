// `stella canary --scanner IMAGE [--executor docker|local] [--json] [--junit FILE] [--canaries DIR]`
//   replays the golden canary set with a candidate scanner image, indexes the results and gates:
//   exit 0 green, 3 warn, 1 fail (as `stella gate`), 2 on bad input.
// `stella canary --rebuild [--canaries DIR]` rescans the set and rewrites the committed goldens.
// `stella canary --verify [--canaries DIR]` checks in process that this checkout reproduces the goldens.
import { rmSync } from 'node:fs';
import { makeTempDir } from '../adapters/temp.js';
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { usageError } from './command.js';


import { BlobStore } from '../adapters/blob-store.js';


import { defaultCanaryDir, goldenDifferences, readCanarySet, readGoldens, rebuildCanaries, regenerate, storeCanaryBlobs } from '../app/canary.js';
import { computeOutputs } from '../app/scan.js';
import { canaryGate } from './canary-gate.js';

const command: Command = {
  name: 'canary',
  summary: 'replay the golden canary set with a candidate scanner image, then gate',
  usage: 'canary --scanner IMAGE_ID [--executor docker|local] [--json] [--junit FILE] [--canaries DIR] [--timeout S]\n       stella canary --verify | --rebuild [--canaries DIR]',
  options: {
    scanner: { type: 'string' },
    executor: { type: 'string' },
    json: { type: 'boolean' },
    junit: { type: 'string' },
    canaries: { type: 'string' },
    timeout: { type: 'string' },
    verify: { type: 'boolean' },
    rebuild: { type: 'boolean' },
  },
  optionHelp: {
    scanner: 'the candidate scanner image ID (sha256:…, from `stella image build`)',
    executor: 'docker (default) or local (child process, lower assurance)',
    json: 'print the canary report as JSON',
    junit: 'also write the gate as JUnit XML to FILE',
    canaries: 'the canary set directory (default fixtures/canaries)',
    timeout: 'kill a replay after S seconds (default 600)',
    verify: 'check in process that this checkout reproduces every committed golden hash',
    rebuild: 'rescan the set and rewrite the committed manifests and outputs (after an intended change)',
  },
  positionals: false,
  async run(args, ctx) {
    const v = args.values;
    const dir = typeof v.canaries === 'string' ? path.resolve(ctx.cwd, v.canaries) : defaultCanaryDir();
    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    const modes = [v.verify === true, v.rebuild === true, typeof v.scanner === 'string'].filter(Boolean).length;
    if (modes !== 1) throw usageError('give exactly one of --scanner IMAGE_ID, --verify or --rebuild');

    if (v.rebuild === true) {
      const work = makeTempDir('stella-canary-');
      try {
        const rows = await rebuildCanaries({ dir, blobs, now: ctx.now, workDir: work });
        for (const r of rows) ctx.stdout.write(`${r.id.padEnd(22)} ${r.scan_id} ${r.ecosystem.padEnd(10)} ${String(r.findings).padStart(4)} findings  ${r.decision}\n`);
        return EXIT.OK;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }

    if (v.verify === true) {
      const set = readCanarySet(dir);
      const goldens = readGoldens(dir, set);
      await storeCanaryBlobs(set, goldens, blobs);
      let bad = 0;
      const rows = [];
      for (const g of goldens) {
        const differs = goldenDifferences(g, computeOutputs(await regenerate(g, blobs)));
        if (differs.length) bad++;
        rows.push({ id: g.entry.id, reproduced: differs.length === 0, differing_artifacts: differs });
      }
      if (v.json === true) ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else for (const r of rows) ctx.stdout.write(`${r.id.padEnd(22)} ${r.reproduced ? 'reproduced' : `DIFFERS in ${r.differing_artifacts.join(', ')}`}\n`);
      return bad ? EXIT.FAIL : EXIT.OK;
    }

    return canaryGate(v, ctx, dir, blobs);
  },
};

export default command;
