// Journey 1 on the history the product ships: for the failing replays of the demo (`npm start`'s
// history), the command `stella ticket ID` prints, pasted into a clean shell (env -i, a fresh HOME, a
// temporary directory), re-creates the replay through the real engine — the pinned scanner release
// loaded from the blob store, the recorded time zone, CPU count and fault seed — and its verdict line
// gives back the recorded cause, subtags and four canonical hashes.
//
// Every failing replay of the history, two at a time (each reproduction is a real Docker run, ~5-10 s
// here); the first test checks that the six causes and every (cause, subtags) combination are among them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_NAMES } from '../../src/core/formats.js';
import { runStella } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { demoHomeCopy } from './demo-home.js';

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const CAUSES = ['external_io', 'feed_drift', 'nondeterminism', 'policy_drift', 'runtime_drift', 'scanner_drift'];

/** The acceptance's own words: `env -i PATH=… HOME=$(mktemp -d) bash -c "<command>"` from a temp dir. */
function pasted(command: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quoted = `'${command.replace(/'/g, `'\\''`)}'`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', `env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=$(mktemp -d) bash -c ${quoted}`], { cwd, env: {}, encoding: 'utf8', timeout: 300_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

interface Failing {
  replay_id: string;
  cause: string;
  subtags: string[];
  record_dir: string;
}

describe('the demo history: every ticket command reproduces its replay through the real engine', () => {
  let home = '';
  const cwdRoot = tempDir('stella-journey-cwd-');
  const failing: Failing[] = [];
  const combinations = new Set<string>();

  beforeAll(async () => {
    await requireDocker();
    ({ home } = await demoHomeCopy());
    const db = new Database(path.join(home, 'index.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT replay_id, auto_reason AS cause, subtags_json, record_dir FROM replay_runs WHERE status <> 'passed' ORDER BY replay_id").all() as Array<{ replay_id: string; cause: string; subtags_json: string; record_dir: string }>;
      for (const r of rows) {
        const subtags = JSON.parse(r.subtags_json) as string[];
        combinations.add(`${r.cause} [${[...subtags].sort().join(',')}]`);
        failing.push({ replay_id: r.replay_id, cause: r.cause, subtags, record_dir: r.record_dir });
      }
    } finally {
      db.close();
    }
  }, 900_000);

  it('the history has failing replays of all six causes, and their records pin real images stored in the home', async () => {
    expect(failing.length).toBeGreaterThan(0);
    expect([...new Set(failing.map((p) => p.cause))].sort()).toEqual(CAUSES);
    const images = new Set(failing.map((p) => readJson(path.join(p.record_dir, 'replay.json')).executor.image_digest as string));
    for (const image of images) {
      // `stella image load` knows every pinned image: an image record and its docker-archive in the store.
      const stored = readJson(path.join(home, 'images', `${image.slice('sha256:'.length)}.json`));
      expect(stored.image_id).toBe(image);
      const blob = await runStella(['blob', 'verify', stored.archive_digest], { env: { STELLA_HOME: home } });
      expect(blob.code, blob.stderr + blob.stdout).toBe(0);
    }
  }, 120_000);

  it('every failing replay: the ticket command, pasted into env -i, gives the recorded cause, subtags and hashes', async () => {
    const env = { STELLA_HOME: home };
    const outcomes: string[] = [];
    const reproduce1 = async (p: Failing) => {
      const t = await runStella(['ticket', p.replay_id, '--json'], { env });
      expect(t.code, t.stderr).toBe(0);
      const { reproduce } = JSON.parse(t.stdout) as { reproduce: string };
      expect(reproduce).toMatch(new RegExp(`^STELLA_HOME=${home} /\\S+ /\\S+/dist/bin/stella\\.js repro ${p.replay_id}$`));
      const started = Date.now();
      const r = await pasted(reproduce, mkdtempSync(path.join(cwdRoot, 'cwd-')));
      const recorded = readJson(path.join(p.record_dir, 'replay.json'));
      const lines = r.stdout.trim().split('\n');
      expect(lines, `${p.replay_id} (${p.cause}): ${r.stderr}`).toHaveLength(1);
      const m = /^(REPRODUCED|NOT REPRODUCED) (rpl_[0-9a-f]{16}) as (rpl_[0-9a-f]{16}): (\w+) (\w+)(?: \[([^\]]*)\])? \(recorded (\w+) (\w+)(?: \[([^\]]*)\])?\); (.*) \(recorded; (.*)\)$/.exec(lines[0]);
      expect(m, lines[0]).not.toBeNull();
      const [, head, id, newId, status, cause, subtags = '', recStatus, recCause, recSubtags = '', hashText, expectText] = m!;
      outcomes.push(`${p.cause} [${p.subtags.join(',')}] ${head} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(r.code, lines[0]).toBe(0);
      expect(id).toBe(p.replay_id);
      // The verdict line's cause and subtags are the recorded ones…
      expect([status, cause, subtags.split(',').filter(Boolean)]).toEqual([recorded.status, recorded.mismatch_reason, [...recorded.subtags].sort()]);
      expect([recStatus, recCause, recSubtags]).toEqual([recorded.status, recorded.mismatch_reason, [...recorded.subtags].sort().join(',')]);
      // …and so are the four hashes: every demo cause is deterministic or carries its fault seed.
      expect(expectText).toBe('same hashes expected');
      const short = (d: string) => d.slice('sha256:'.length, 'sha256:'.length + 12);
      expect(hashText).toBe(ARTIFACT_NAMES.map((n) => `${n} ${short(recorded.artifacts[n].canonical_sha256)} =`).join(', '));
      // The new record ran in Docker, in the recorded runtime, compared with the original scan.
      const rerun = readJson(path.join(home, 'repro', newId, 'replay.json'));
      expect(rerun).toMatchObject({ mode: recorded.mode, original_scan_id: recorded.original_scan_id, mismatch_reason: recorded.mismatch_reason, subtags: recorded.subtags });
      expect(rerun.executor).toMatchObject({ kind: 'docker', network: 'none', image_digest: recorded.executor.image_digest, tz: recorded.executor.tz, cpus: recorded.executor.cpus });
      expect(rerun.executor.fault_seed).toBe(recorded.executor.fault_seed);
      for (const n of ARTIFACT_NAMES) expect(rerun.artifacts[n].canonical_sha256).toBe(recorded.artifacts[n].canonical_sha256);
    };
    // Two at a time: the engine runs them side by side; the home's index takes each repro's row.
    const queue = [...failing];
    await Promise.all([0, 1].map(async () => {
      for (let p = queue.shift(); p; p = queue.shift()) await reproduce1(p);
    }));
    expect(outcomes).toHaveLength(failing.length);
    console.log(`demo repro: all ${failing.length} failing replays, ${combinations.size} (cause, subtags) combinations: ${[...combinations].sort().join('; ')}\n  ${outcomes.sort().join('\n  ')}`);
  }, 900_000);
});
