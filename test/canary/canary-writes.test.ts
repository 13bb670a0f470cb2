// A canary run writes its records through the one record writer: counted through the fs port it takes,
// the original it materializes and the replay it runs each write every record file exactly once.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CANARY_SET_FILE, runCanaries } from '../../src/app/canary.js';
import { scannerEntryPath } from '../../src/app/image.js';
import { LocalExecutor } from '../../src/adapters/local-executor.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import type { RecordFs } from '../../src/core/ports.js';

const CANARY = 'npm-socket-io';

/** node:fs writes, counted per record staging directory and path inside it. */
function countingFs(): { fs: RecordFs; writes: Map<string, Map<string, number>> } {
  const writes = new Map<string, Map<string, number>>();
  return {
    writes,
    fs: {
      mkdir: (dir) => mkdirSync(dir, { recursive: true }),
      writeFile: (file, data) => {
        const inArtifacts = path.basename(path.dirname(file)) === 'artifacts';
        const staging = inArtifacts ? path.dirname(path.dirname(file)) : path.dirname(file);
        const rel = inArtifacts ? `artifacts/${path.basename(file)}` : path.basename(file);
        const m = writes.get(staging) ?? new Map<string, number>();
        m.set(rel, (m.get(rel) ?? 0) + 1);
        writes.set(staging, m);
        writeFileSync(file, data);
      },
    },
  };
}

describe('one canary run, one write per record file', () => {
  it('writes the original and the replay record once each, every file one time', async () => {
    const work = tempDir('stella-canary-writes-');
    const env = { STELLA_HOME: path.join(work, 'home') };
    // The committed set, cut to one canary.
    const dir = path.join(work, 'canaries');
    mkdirSync(dir);
    const set = JSON.parse(readFileSync(path.join(REPO, 'fixtures/canaries', CANARY_SET_FILE), 'utf8')) as { canaries: Array<{ id: string }> };
    set.canaries = set.canaries.filter((c) => c.id === CANARY);
    expect(set.canaries).toHaveLength(1);
    writeFileSync(path.join(dir, CANARY_SET_FILE), JSON.stringify(set, null, 2) + '\n');
    cpSync(path.join(REPO, 'fixtures/canaries', CANARY), path.join(dir, CANARY), { recursive: true });

    const { fs, writes } = countingFs();
    const report = await runCanaries({
      dir,
      scannerImage: `sha256:${'a'.repeat(64)}`,
      executor: new LocalExecutor({ entry: scannerEntryPath(), env }),
      blobs: BlobStore.fromEnv(env, work),
      home: path.join(work, 'home'),
      now: () => new Date('2026-01-01T00:00:00Z'),
      fs,
    });
    expect(report.canaries.map((c) => [c.id, c.status, c.bf_match])).toEqual([[CANARY, 'passed', true]]);
    const files = ['artifacts/findings.json', 'artifacts/sbom.cdx.json', 'artifacts/verdict.json', 'artifacts/vex.openvex.json', 'manifest.json', 'outputs.json'];
    const perRecord = [...writes.values()].map((m) => Object.fromEntries([...m].sort())).sort((a, b) => Object.keys(a).length - Object.keys(b).length);
    expect(perRecord).toEqual([
      Object.fromEntries(files.map((f) => [f, 1])),
      Object.fromEntries([...files, 'replay.json'].map((f) => [f, 1])),
    ]);
    // What was written for the replay is what the run reports.
    const replayDir = report.canaries[0].dir!;
    expect((JSON.parse(readFileSync(path.join(replayDir, 'replay.json'), 'utf8')) as { replay_id: string }).replay_id).toBe(report.canaries[0].replay_id);
  }, 180_000);
});
