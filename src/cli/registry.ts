// The command table. Summaries live here so `stella --help` lists commands without importing them
// (start-up time); each module is loaded only when its command runs.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

const entry = (name: string, summary: string, load: () => Promise<{ default: Command }>): CommandEntry => ({
  name,
  summary,
  load: async () => (await load()).default,
});

export const COMMANDS: readonly CommandEntry[] = [
  entry('scan', 'scan an SBOM, lockfile or directory against a pinned feed and policy', () => import('./scan.js')),
  entry('replay', 'replay a scan from its manifest in a locked-down container', () => import('./replay.js')),
  entry('diff', 'compare two scan/replay records bitwise, semantically or by policy', () => import('./diff.js')),
  entry('explain', 'explain why a replay did not match its original', () => import('./explain.js')),
  entry('tui', 'open the triage workstation (default when no command is given)', () => import('./tui.js')),
  entry('index', 'ingest scan and replay records into the index (SQLite or PostgreSQL)', () => import('./index.js')),
  entry('fidelity', 'report Replay Fidelity (BF/SF/PF) over a window, by bucket: pinned (production) replays unless --include-what-if', () => import('./fidelity.js')),
  entry('gate', 'gate a release on production Replay Fidelity: pinned replays only (exit 0 green, 3 warn, 1 fail)', () => import('./gate.js')),
  entry('metrics', 'print or serve Prometheus metrics', () => import('./metrics.js')),
  entry('badge', 'write the Replay Fidelity badge (SVG or shields JSON)', () => import('./badge.js')),
  entry('ticket', 'write a markdown ticket for a failed replay', () => import('./ticket.js')),
  entry('repro', 'reproduce a replay as it ran (same scan, overrides, executor, image) and compare with the record', () => import('./repro.js')),
  entry('retag', 'override the cause tag of failing replays, undo the last retag, or list the audit trail', () => import('./retag.js')),
  entry('chaos', 'replay one manifest under varied environments; name what breaks BF', () => import('./chaos.js')),
  entry('canary', 'replay the golden canary set with a candidate scanner image, then gate', () => import('./canary.js')),
  entry('demo', 'build the bundled 90-day demo history (once) and open the workstation', () => import('./demo.js')),
  entry('feed', 'snapshot, verify, list or diff content-addressed feed bundles', () => import('./feed.js')),
  entry('policy', 'compile a policy (JSON or YAML) into a content-addressed bundle', () => import('./policy.js')),
  entry('image', 'build or load the deterministic scanner image', () => import('./image.js')),
  entry('canon', 'print the canonical form (or hash) of a JSON artifact', () => import('./canon.js')),
  entry('manifest', 'validate, hash, sign or verify a ScanManifest', () => import('./manifest.js')),
  entry('blob', 'put, get or check blobs in the content-addressed store', () => import('./blob.js')),
  entry('sync', 'pull the team store (PostgreSQL) into the local index and push local retags', () => import('./sync.js')),
  entry('worker', 'run replay jobs from the team store\'s queue on one Docker engine (stella nightly enqueues them)', () => import('./worker.js')),
  entry('sample', 'pick N scans to replay, stratified by ecosystem, base OS, regulated tier and scanner', () => import('./sample.js')),
  entry('nightly', 'the nightly run on the team store: sample → enqueue replay jobs → (wait for workers) → index → gate → tickets', () => import('./nightly.js')),
  entry('gc', 'expire unreferenced blobs older than N days (records and canonical hashes are kept)', () => import('./gc.js')),
];
