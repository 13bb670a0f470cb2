// `stella repro REPLAY_ID`: re-create a replay as it ran — the same original scan record, the same
// what-if overrides (its recorded mode), the same executor kind and runtime (time zone, locale, CPU
// count, fault seed), the pinned image from the blob store —
// compare with the ORIGINAL scan (never a previous replay), and say in one line whether the cause,
// the subtags and the four canonical hashes are the recorded ones.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { StellaError } from '../core/errors.js';
import { ARTIFACT_NAMES, type ReplayRecord } from '../core/formats.js';
import type { ReplayStore } from '../core/ports.js';
import { whatIfOfMode } from '../core/record/index.js';
import { readReplayFile } from './record.js';

export interface ReproOptions {
  store: Pick<ReplayStore, 'getReplay' | 'getScan'>;
  replayId: string;
  /** STELLA_HOME: blobs come from its store; the new record goes to `<home>/repro/`. */
  home: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The wall clock: a reproduction is a new event. */
  now: () => Date;
  onLog?: (line: string) => void;
}

export interface ReproResult {
  recorded: ReplayRecord;
  rerun: ReplayRecord;
  dir: string | null;
  /** Cause and subtags equal, and (for every cause but nondeterminism) the four hashes too. */
  reproduced: boolean;
  verdict: string;
}

/** Causes whose outputs are not a function of the pinned inputs, unless the record names its fault seed. */
const RANDOM_CAUSES = new Set(['nondeterminism']);

export async function reproduce(o: ReproOptions): Promise<ReproResult> {
  const detail = await o.store.getReplay(o.replayId);
  if (!detail) throw new StellaError('NOT_FOUND', `no replay '${o.replayId}' in the index (run \`stella index DIR\` first)`);
  if (!detail.record_dir) throw new StellaError('NOT_FOUND', `replay ${o.replayId} has no record directory in the index`);
  const recordFile = path.join(detail.record_dir, 'replay.json');
  if (!existsSync(recordFile)) throw new StellaError('NOT_FOUND', `the record of ${o.replayId} is gone`, { file: recordFile });
  const recorded = readReplayFile(recordFile);
  const scan = await o.store.getScan(recorded.original_scan_id);
  if (!scan?.record_dir) throw new StellaError('NOT_FOUND', `the original scan ${recorded.original_scan_id} has no indexed record directory; index it with \`stella index DIR\``);
  const [{ makeExecutor }, { BlobStore }, { replay }] = await Promise.all([import('./executors.js'), import('../adapters/blob-store.js'), import('./replay.js')]);
  const whatIf = whatIfOfMode(recorded.mode);
  const blobs = new BlobStore(o.home);
  const kind = recorded.executor?.kind === 'local' ? 'local' : 'docker';
  const { executor, prepareImage } = await makeExecutor(kind, { env: o.env }, blobs);
  const x = recorded.executor;
  // The runtime it ran in, which may differ from the manifest's pins (a runner in the wrong zone).
  const runtime = {
    ...(typeof x.tz === 'string' && x.tz ? { tz: x.tz } : {}),
    ...(typeof x.locale === 'string' && x.locale ? { locale: x.locale } : {}),
    ...(Number.isInteger(x.cpus) && x.cpus > 0 ? { cpus: x.cpus } : {}),
    ...(typeof x.fault_seed === 'string' ? { faultSeed: x.fault_seed } : {}),
  };
  const r = await replay({
    manifestPath: path.join(scan.record_dir, 'manifest.json'),
    whatIf,
    runtime,
    outDir: path.join(o.home, 'repro'),
    executor,
    blobs,
    now: o.now,
    env: o.env,
    ...(prepareImage ? { prepareImage } : {}),
    onEvent: (e) => {
      if (e.kind === 'log') o.onLog?.(e.message);
    },
  });
  // The re-run could not run (a blob gone from the home, an engine error): that is no verdict on the
  // replay. Say why in one line (SPEC §7), unless the recorded replay errored too.
  if (r.record.status === 'error' && recorded.status !== 'error') {
    const why = (r.record.error ?? 'no reason recorded').replace(/\s*\n\s*/g, '; ');
    throw new StellaError('IO', `could not re-run ${o.replayId}: ${why}`, r.dir ? { file: path.join(r.dir, 'replay.json') } : {});
  }
  return { recorded, rerun: r.record, dir: r.dir, ...judge(recorded, r.record) };
}

/** The one verdict line: cause and subtags, then each canonical hash beside the recorded one. */
export function judge(recorded: ReplayRecord, rerun: ReplayRecord): { reproduced: boolean; verdict: string } {
  const cause = (r: ReplayRecord) => `${r.mismatch_reason ?? 'none'}${r.subtags.length ? ` [${[...r.subtags].sort().join(',')}]` : ''}`;
  const sameCause = recorded.status === rerun.status && cause(recorded) === cause(rerun);
  const hashes = ARTIFACT_NAMES.map((n) => {
    const a = recorded.artifacts[n]?.canonical_sha256 ?? 'none';
    const b = rerun.artifacts[n]?.canonical_sha256 ?? 'none';
    return { n, a, b, same: a === b };
  });
  const deterministic = !RANDOM_CAUSES.has(recorded.mismatch_reason ?? '') || typeof recorded.executor?.fault_seed === 'string';
  const sameHashes = hashes.every((h) => h.same);
  const reproduced = sameCause && (!deterministic || sameHashes);
  const short = (d: string) => (d.startsWith('sha256:') ? d.slice(7, 19) : d);
  const hashText = hashes.map((h) => `${h.n} ${short(h.b)}${h.same ? ' =' : ` != ${short(h.a)}`}`).join(', ');
  const head = reproduced ? 'REPRODUCED' : 'NOT REPRODUCED';
  const expect = deterministic ? 'same hashes expected' : 'random cause: same cause and subtags expected';
  return {
    reproduced,
    verdict: `${head} ${recorded.replay_id} as ${rerun.replay_id}: ${rerun.status} ${cause(rerun)} (recorded ${recorded.status} ${cause(recorded)}); ${hashText} (recorded; ${expect})`,
  };
}
