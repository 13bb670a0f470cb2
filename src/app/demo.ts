// `stella demo`: a believable, reproducible 90-day history of scans and nightly replays, built once into
// $STELLA_HOME so the workstation has something real to show on day one.
//
// Everything is real except the calendar: scans run the reference scanner in process over real inputs
// (fixtures/third_party) against feed bundles built from the real OSV records as of each day (a record
// is in the feed once its `modified` date has passed), replays re-run the scanner from the manifest with
// whatever the night's replay job changed (a newer feed, the new policy, a new scanner release, a runner
// in the wrong time zone), and every mismatch is compared and classified by the real classifier. The
// randomness (times of day, cadence phase, sampled replays, the ids a `random-ids` scanner would invent)
// comes from a seeded generator, so two builds give the same history, byte for byte.
//
// The scanner releases are real: each is a deterministic scanner image (the same sources with its
// release file baked in) stored as a docker-archive in the blob store, and every record pins its ID.
// Scans and replays run `scanUnder`, the very function the image's entry runs, under the environment
// the record states (time zone, CPU count, release, fault seed), so `stella repro` and the
// workstation's re-run through Docker give back the recorded cause, subtags and hashes.
import { createHash } from 'node:crypto';
import { makeTempDir } from '../adapters/temp.js';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { canonicalDigest, compareCodeUnits } from '../core/canonical/index.js';
import { StellaError, jsonPath } from '../core/errors.js';
import { ARTIFACT_NAMES, type ArtifactName, type Digest, type ExecutorEnvironment, type Outputs, type ReplayRecord, type ScanManifest } from '../core/formats.js';
import type { OnEvent } from '../core/ports.js';
import { manifestSha256 } from '../core/manifest/index.js';
import { parseJsonBytes, decodeUtf8 } from '../core/json/parse.js';
import { isOsvRecord } from '../core/feed/bundle.js';
import { parseOsvYaml } from './osv-yaml.js';
import { BlobStore } from '../adapters/blob-store.js';
import { readJsonFile, writeFileAtomic } from '../adapters/fs.js';
import type { OsvRecordEntry, ScanPackage } from '../scanner/types.js';
import { parseInputFile } from '../scanner/inputs/index.js';
import { faultsFromFlags, parseFaults, type FaultName } from '../scanner/faults.js';
import { serializeArtifacts } from '../scanner/run.js';
import { scanUnder, type ScanRuntime } from '../scanner/runtime.js';
import { defaultSources } from '../adapters/docker/image-archive.js';
import { buildFeedBundle, FIXTURE_SOURCES, openFeedBundle } from './feed.js';
import { readPolicyFile, type PolicyBundle } from './policy.js';
import { buildManifest, computeOutputs, dominantEcosystem } from './scan.js';
import { classifiedFields, compareLoaded } from './compare.js';
import { loadRecord, recordFromMemory, writeRecordDir } from './record.js';
import { compareOutputs, effectiveManifest, modeOf, replayIdOf as replayId, scanIdOf, type WhatIf } from '../core/record/index.js';
import { repoRoot, storedScannerImage } from './image.js';
import { runtimeFacts } from './replay.js';
import { mulberry32 } from '../core/seeded-random.js';
import { isObject as isObj } from '../core/guards.js';

/** Bump when the generator's output changes: a cached history of another version is rebuilt. */
export const DEMO_GENERATOR_VERSION = '2';
export const DEMO_MARKER = 'demo/.complete.json';

// ---- the spec (fixtures/demo/demo.json) ----------------------------------------------------------

export interface DemoProject {
  project: string;
  input: string;
  regulated: boolean;
  base_os: string;
  cadence_days: number;
}

export interface DemoSpec {
  demo_version: string;
  seed: number;
  days: number;
  /** Older pinned scans replayed each night on top of the day's own scans. */
  nightly_sample: number;
  policy: string;
  projects: DemoProject[];
  policy_change: { day: number; policy: string; watch_days: number };
  scanner_release: { day: number; from_version: string; to_version: string; watch_days: number; sample: number };
  tz_incident: { from_day: number; to_day: number; tz: string; projects: string[] };
  nondeterminism: Array<{ project: string; fault: FaultName; from_day: number; to_day: number; replay_cpus?: number }>;
  unpinned: { projects: string[]; online_projects: string[]; before_day: number; revalidate_day: number };
}

type Obj = Record<string, unknown>;

/** Validate demo.json; the first problem is thrown with its JSON path. */
export function parseDemoSpec(value: unknown, file: string): DemoSpec {
  const bad = (segs: Array<string | number>, msg: string) => new StellaError('SCHEMA_INVALID', msg, { file, path: jsonPath(segs) });
  const obj = (v: unknown, segs: Array<string | number>): Obj => {
    if (!isObj(v)) throw bad(segs, 'must be an object');
    return v;
  };
  const int = (o: Obj, k: string, segs: Array<string | number>, min: number, max: number): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad([...segs, k], `must be a whole number from ${min} to ${max}`);
    return v;
  };
  const str = (o: Obj, k: string, segs: Array<string | number>): string => {
    const v = o[k];
    if (typeof v !== 'string' || v === '') throw bad([...segs, k], 'must be a non-empty string');
    return v;
  };
  const names = (o: Obj, k: string, segs: Array<string | number>, known: Set<string>): string[] => {
    const v = o[k];
    if (!Array.isArray(v)) throw bad([...segs, k], 'must be an array of project names');
    return v.map((x, i) => {
      if (typeof x !== 'string' || !known.has(x)) throw bad([...segs, k, i], `unknown project ${JSON.stringify(x)}`);
      return x;
    });
  };
  const root = obj(value, []);
  if (root.demo_version !== '1') throw bad(['demo_version'], `unsupported demo spec version ${JSON.stringify(root.demo_version)} (expected "1")`);
  const days = int(root, 'days', [], 14, 366);
  const seed = int(root, 'seed', [], 0, 2 ** 31 - 1);
  const policy = str(root, 'policy', []);
  if (!Array.isArray(root.projects) || root.projects.length === 0) throw bad(['projects'], 'must be a non-empty array');
  const projects = root.projects.map((p, i): DemoProject => {
    const o = obj(p, ['projects', i]);
    const input = str(o, 'input', ['projects', i]);
    if (input.startsWith('/') || input.split('/').includes('..')) throw bad(['projects', i, 'input'], 'must be a relative path under fixtures/third_party');
    if (typeof o.regulated !== 'boolean') throw bad(['projects', i, 'regulated'], 'must be true or false');
    return { project: str(o, 'project', ['projects', i]), input, regulated: o.regulated, base_os: str(o, 'base_os', ['projects', i]), cadence_days: int(o, 'cadence_days', ['projects', i], 1, 30) };
  });
  const known = new Set(projects.map((p) => p.project));
  if (known.size !== projects.length) throw bad(['projects'], 'project names must be unique');
  const pc = obj(root.policy_change, ['policy_change']);
  const sr = obj(root.scanner_release, ['scanner_release']);
  const sample = sr.sample;
  if (typeof sample !== 'number' || !(sample > 0 && sample <= 1)) throw bad(['scanner_release', 'sample'], 'must be a fraction in (0, 1]');
  const tz = obj(root.tz_incident, ['tz_incident']);
  if (!Array.isArray(root.nondeterminism)) throw bad(['nondeterminism'], 'must be an array');
  const nd = root.nondeterminism.map((n, i) => {
    const o = obj(n, ['nondeterminism', i]);
    const project = str(o, 'project', ['nondeterminism', i]);
    if (!known.has(project)) throw bad(['nondeterminism', i, 'project'], `unknown project ${JSON.stringify(project)}`);
    const fault = str(o, 'fault', ['nondeterminism', i]);
    try {
      parseFaults([fault]);
    } catch (e) {
      throw bad(['nondeterminism', i, 'fault'], (e as Error).message);
    }
    return {
      project,
      fault: fault as FaultName,
      from_day: int(o, 'from_day', ['nondeterminism', i], 0, days - 1),
      to_day: int(o, 'to_day', ['nondeterminism', i], 0, days - 1),
      ...(o.replay_cpus !== undefined ? { replay_cpus: int(o, 'replay_cpus', ['nondeterminism', i], 1, 256) } : {}),
    };
  });
  const un = obj(root.unpinned, ['unpinned']);
  return {
    demo_version: '1',
    seed,
    days,
    nightly_sample: int(root, 'nightly_sample', [], 0, 1000),
    policy,
    projects,
    policy_change: { day: int(pc, 'day', ['policy_change'], 1, days - 1), policy: str(pc, 'policy', ['policy_change']), watch_days: int(pc, 'watch_days', ['policy_change'], 0, 30) },
    scanner_release: {
      day: int(sr, 'day', ['scanner_release'], 1, days - 1),
      from_version: str(sr, 'from_version', ['scanner_release']),
      to_version: str(sr, 'to_version', ['scanner_release']),
      watch_days: int(sr, 'watch_days', ['scanner_release'], 0, 30),
      sample,
    },
    tz_incident: {
      from_day: int(tz, 'from_day', ['tz_incident'], 0, days - 1),
      to_day: int(tz, 'to_day', ['tz_incident'], 0, days - 1),
      tz: str(tz, 'tz', ['tz_incident']),
      projects: names(tz, 'projects', ['tz_incident'], known),
    },
    nondeterminism: nd,
    unpinned: {
      projects: names(un, 'projects', ['unpinned'], known),
      online_projects: names(un, 'online_projects', ['unpinned'], known),
      before_day: int(un, 'before_day', ['unpinned'], 0, days - 1),
      revalidate_day: int(un, 'revalidate_day', ['unpinned'], 0, days - 1),
    },
  };
}

// ---- seeded randomness --------------------------------------------------------------------------

/** One seeded stream per purpose label, so adding a draw in one place leaves the others unchanged. */
export function seededRandom(seed: number, label: string): () => number {
  return mulberry32(createHash('sha256').update(`${seed}\u0000${label}`).digest().readUInt32BE(0));
}

/** A fault seed: short, content-derived, the same on every build of the same spec. */
function demoSeed(spec: DemoSpec, label: string): string {
  return `demo-${createHash('sha256').update(`${spec.seed}\u0000${label}`).digest('hex').slice(0, 16)}`;
}

/** How the scanner process ran: what the image's entry would see under this recorded environment. */
function demoRuntime(tz: string, cpus: number, version: string, faultSeed: string | null): ScanRuntime {
  const hostless = () => {
    throw new StellaError('USAGE', 'a demo run draws its clock and ids from its fault seed');
  };
  return { timeZone: tz, cpus, release: { version }, faultSeed, wallclock: hostless, randomUUID: hostless };
}

// ---- OSV records by date ----------------------------------------------------------------------------

interface DatedRecord {
  /** Path relative to the OSV fixtures directory. */
  rel: string;
  /** `modified` as YYYY-MM-DD, or null when the record carries a placeholder date (always present). */
  day: string | null;
}

const OSV_DIRS = ['ghsa', 'go', 'pypi'];

function osvRecords(osvDir: string): DatedRecord[] {
  const out: DatedRecord[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(osvDir, rel)).sort(compareCodeUnits)) {
      const r = `${rel}/${name}`;
      const abs = path.join(osvDir, r);
      if (statSync(abs).isDirectory()) {
        walk(r);
        continue;
      }
      if (!/\.(json|ya?ml)$/i.test(name)) continue;
      const bytes = readFileSync(abs);
      const doc = /\.json$/i.test(name) ? parseJsonBytes(bytes, abs) : parseOsvYaml(decodeUtf8(bytes, abs), abs);
      if (!isOsvRecord(doc)) continue;
      const m = typeof doc.modified === 'string' ? doc.modified.slice(0, 10) : '';
      // golang/vulndb's data/osv files carry 0001-01-01 until publication fills the real date in.
      out.push({ rel: r, day: /^\d{4}-\d{2}-\d{2}$/.test(m) && m >= '1990-01-01' ? m : null });
    }
  };
  for (const d of OSV_DIRS) if (existsSync(path.join(osvDir, d))) walk(d);
  return out;
}

const DAY_MS = 86_400_000;
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

function at(day: string, minutes: number, seconds = 0): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + minutes * 60_000 + seconds * 1000).toISOString().replace('.000Z', 'Z');
}

// ---- the plan ---------------------------------------------------------------------------------------

export interface DemoCalendar {
  /** Day 0 .. days-1 as YYYY-MM-DD. */
  dates: string[];
  /** The demo's "now": early morning after the last day, once the last night's replays are in. */
  now: string;
  /** Feed snapshot days: each holds the records modified on or before it. */
  snapshotDays: string[];
}

/** Day 0 is days-1 before the latest `modified` date of the fixtures; feed snapshots follow the record dates. */
export function demoCalendar(spec: DemoSpec, records: readonly DatedRecord[]): DemoCalendar {
  const dated = records.map((r) => r.day).filter((d): d is string => d !== null).sort(compareCodeUnits);
  if (dated.length === 0) throw new StellaError('NOT_FOUND', 'no dated OSV record in fixtures/third_party/osv: nothing to build a feed history from');
  const last = dated[dated.length - 1];
  const first = addDays(last, -(spec.days - 1));
  const dates = Array.from({ length: spec.days }, (_, i) => addDays(first, i));
  const inWindow = [...new Set(dated.filter((d) => d > first))];
  return { dates, now: at(addDays(last, 1), 6 * 60), snapshotDays: [first, ...inWindow] };
}

// ---- building ---------------------------------------------------------------------------------------

export interface DemoOptions {
  home: string;
  force?: boolean;
  specFile?: string;
  onEvent?: OnEvent;
}

export interface DemoResult {
  home: string;
  built: boolean;
  now: string;
  scans: number;
  replays: number;
  failing: number;
  causes: Record<string, number>;
}

interface DemoMarker {
  generator_version: string;
  spec_digest: Digest;
  now: string;
  scans: number;
  replays: number;
  failing: number;
  causes: Record<string, number>;
}

export function readDemoMarker(home: string): DemoMarker | null {
  const file = path.join(home, DEMO_MARKER);
  if (!existsSync(file)) return null;
  try {
    return readJsonFile(file) as DemoMarker;
  } catch {
    return null;
  }
}

export function defaultSpecFile(): string {
  return path.join(repoRoot(), 'fixtures/demo/demo.json');
}

interface Feed {
  digest: Digest;
  records: OsvRecordEntry[];
}

interface ScanDone {
  project: DemoProject;
  dir: string;
  manifest: ScanManifest;
  manifestBytes: Buffer;
  outputs: Outputs;
  faults: FaultName[];
  day: number;
  /** The snapshot the scan actually used (also for unpinned scans). */
  feed: Feed;
  policy: PolicyBundle;
  version: string;
}

interface ReplayPlan {
  scan: ScanDone;
  night: number;
  whatIf: WhatIf;
  feed: Feed;
  policy: PolicyBundle;
  version: string;
  tz: string;
  cpus: number;
}

/**
 * The two scanner releases as real images: the current scanner sources with the release's version
 * baked in, built once into the blob store (docker-archive + image record) and found there next time.
 */
async function demoImages(spec: DemoSpec, blobs: BlobStore, root: string, emit: OnEvent): Promise<Map<string, Digest>> {
  const out = new Map<string, Digest>();
  const base = defaultSources(root);
  const versions = [spec.scanner_release.from_version, spec.scanner_release.to_version];
  emit({ kind: 'start', id: 'demo-images', total: versions.length, label: 'scanner images' });
  for (const version of versions) {
    const rec = await storedScannerImage({ blobs, sources: { ...base, release: { version } } });
    out.set(version, rec.image_id);
    emit({ kind: 'progress', id: 'demo-images', done: out.size, total: versions.length, label: `${version} ${rec.image_id}` });
  }
  return out;
}

/**
 * Build the history into `home` unless a complete one of this generator version and spec is there.
 * Records go to `home/demo/scans` and `home/demo/replays`, blobs to the store, rows to `home/index.db`.
 */
export async function buildDemo(o: DemoOptions): Promise<DemoResult> {
  const specFile = o.specFile ?? defaultSpecFile();
  const specBytes = readFileSync(specFile);
  const spec = parseDemoSpec(parseJsonBytes(specBytes, specFile), specFile);
  const specDigest = canonicalDigest({ spec, generator: DEMO_GENERATOR_VERSION });
  const marker = readDemoMarker(o.home);
  if (!o.force && marker && marker.generator_version === DEMO_GENERATOR_VERSION && marker.spec_digest === specDigest) {
    // The records are there; an index deleted since is rebuilt from them (idempotent).
    if (!existsSync(path.join(o.home, 'index.db'))) await indexDemo(o.home);
    return { home: o.home, built: false, now: marker.now, scans: marker.scans, replays: marker.replays, failing: marker.failing, causes: marker.causes };
  }
  const root = repoRoot();
  const thirdParty = path.join(root, 'fixtures/third_party');
  const demoDir = path.join(o.home, 'demo');
  // Built in a staging directory and renamed into place at the end: a killed build leaves no partial
  // history behind (and writing ~700 records without a per-record fsync keeps the build fast).
  const stage = path.join(o.home, `.demo-build-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const blobs = new BlobStore(o.home);
  const emit = o.onEvent ?? (() => undefined);

  const images = await demoImages(spec, blobs, root, emit);
  const demoImage = (version: string): Digest => images.get(version)!;

  // Feed snapshots: the OSV records modified on or before each snapshot day.
  const osvDir = path.join(thirdParty, 'osv');
  const records = osvRecords(osvDir);
  const cal = demoCalendar(spec, records);
  const feeds: Feed[] = [];
  const work = makeTempDir('stella-demo-');
  try {
    emit({ kind: 'start', id: 'demo-feeds', total: cal.snapshotDays.length, label: 'feed snapshots' });
    for (const day of cal.snapshotDays) {
      const src = path.join(work, day);
      for (const r of records) {
        if (r.day !== null && r.day > day) continue;
        mkdirSync(path.dirname(path.join(src, r.rel)), { recursive: true });
        cpSync(path.join(osvDir, r.rel), path.join(src, r.rel));
      }
      const built = await buildFeedBundle(src, { generatedAt: `${day}T23:59:59Z`, sources: FIXTURE_SOURCES });
      blobs.put(built.bytes);
      const opened = await openFeedBundle(built.bytes, { expectedDigest: built.digest });
      feeds.push({ digest: built.digest, records: opened.records });
      rmSync(src, { recursive: true, force: true });
      emit({ kind: 'progress', id: 'demo-feeds', done: feeds.length, total: cal.snapshotDays.length, label: day });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const feedByDigest = new Map(feeds.map((f) => [f.digest as string, f]));
  const feedOn = (dayIndex: number): Feed => {
    const date = cal.dates[dayIndex];
    let idx = 0;
    for (let i = 0; i < cal.snapshotDays.length; i++) if (cal.snapshotDays[i] <= date) idx = i;
    return feeds[idx];
  };

  const policyV1 = readPolicyFile(path.join(root, spec.policy));
  const policyV2 = readPolicyFile(path.join(root, spec.policy_change.policy));
  blobs.put(policyV1.bytes);
  blobs.put(policyV2.bytes);
  const policyOn = (d: number) => (d >= spec.policy_change.day ? policyV2 : policyV1);
  const versionOn = (d: number) => (d >= spec.scanner_release.day ? spec.scanner_release.to_version : spec.scanner_release.from_version);

  // Inputs: parsed once, stored once.
  const inputs = new Map<string, { packages: ScanPackage[]; digest: Digest; type: ScanManifest['input']['type']; ref: string }>();
  for (const p of spec.projects) {
    const file = path.join(thirdParty, p.input);
    const bytes = readFileSync(file);
    const parsed = parseInputFile({ name: file, bytes });
    inputs.set(p.project, { packages: parsed.packages, digest: blobs.put(bytes), type: parsed.type, ref: p.input });
  }

  const scansDir = path.join(stage, 'scans');
  const replaysDir = path.join(stage, 'replays');
  const scans: ScanDone[] = [];
  const latest = new Map<string, ScanDone>();
  const plans: ReplayPlan[] = [];
  const phase = seededRandom(spec.seed, 'phase');
  const phases = new Map(spec.projects.map((p) => [p.project, Math.floor(phase() * p.cadence_days)]));
  const sampler = seededRandom(spec.seed, 'sample');

  emit({ kind: 'start', id: 'demo-scans', total: spec.days, label: 'days' });
  for (let d = 0; d < spec.days; d++) {
    const date = cal.dates[d];
    const feed = feedOn(d);
    // Nightly jobs of night d (after day d's scans): what the replay farm was asked to do.
    const dayScans: ScanDone[] = [];
    for (const p of spec.projects) {
      if ((d + phases.get(p.project)!) % p.cadence_days !== 0) continue;
      const jitter = seededRandom(spec.seed, `scan:${p.project}:${d}`);
      const clock = at(date, 8 * 60 + Math.floor(jitter() * 600), Math.floor(jitter() * 60));
      const faults = parseFaults([
        ...spec.nondeterminism.filter((n) => n.project === p.project && d >= n.from_day && d <= n.to_day).map((n) => n.fault),
        ...(spec.tz_incident.projects.includes(p.project) ? ['tz-date-rule'] : []),
      ]);
      const historical = d < spec.unpinned.before_day;
      const unpinned = historical && spec.unpinned.projects.includes(p.project);
      // Before the network lockdown these scanners also pulled advisories online: newer than the bundle.
      const online = historical && spec.unpinned.online_projects.includes(p.project);
      const version = versionOn(d);
      const policy = policyOn(d);
      const input = inputs.get(p.project)!;
      const built = buildManifest({
        input: { type: input.type, ref: input.ref, digest: input.digest },
        scannerImageDigest: demoImage(version),
        scannerVersion: version,
        faults,
        // Historical scans before feed pinning recorded only "latest".
        feedDigest: (unpinned ? 'latest' : feed.digest) as Digest,
        policyDigest: policy.digest,
        policySet: policy.policy.policy_set,
        clock: { value: clock, mode: 'frozen' },
        environment: { arch: 'amd64', os: 'linux', tz: 'UTC', locale: 'C', cpus: 2 },
        labels: { ecosystem: dominantEcosystem(input.packages), base_os: p.base_os, regulated: p.regulated, project: p.project },
      });
      const manifest = online ? withNetwork(built) : built;
      const docs = scanUnder(
        { packages: input.packages, records: online ? feeds[feeds.length - 1].records : feed.records, policy: policy.policy, manifest, faults },
        demoRuntime('UTC', 2, version, faults.length ? demoSeed(spec, `scan:${p.project}:${d}`) : null),
      );
      const bytes = serializeArtifacts(docs) as Record<ArtifactName, Buffer>;
      const dir = path.join(scansDir, manifest.scan_id);
      const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
      const outputs = computeOutputs(bytes);
      await writeRecordDir(dir, { manifest: manifestBytes, artifacts: bytes, outputs });
      const done: ScanDone = { project: p, dir, manifest, manifestBytes, outputs, faults, day: d, feed, policy, version };
      scans.push(done);
      dayScans.push(done);
    }

    // Tonight's replays: every scan of the day, pinned (unpinned ones resolve "latest" = tonight's feed).
    const tzTonight = d >= spec.tz_incident.from_day && d <= spec.tz_incident.to_day ? spec.tz_incident.tz : 'UTC';
    for (const s of dayScans) {
      const nd = spec.nondeterminism.find((n) => n.project === s.project.project && d >= n.from_day && d <= n.to_day);
      const unpinned = s.manifest.feeds.vuln_feed_bundle_digest === 'latest';
      plans.push({
        scan: s,
        night: d,
        whatIf: unpinned ? { feed: feedOn(Math.min(d + 1, spec.days - 1)).digest } : {},
        feed: unpinned ? feedOn(Math.min(d + 1, spec.days - 1)) : s.feed,
        policy: s.policy,
        version: s.version,
        tz: tzTonight,
        cpus: nd?.replay_cpus ?? 2,
      });
    }
    // The stratified nightly sample: a few older pinned scans replayed exactly as recorded.
    const older = scans.filter((x) => x.day < d && x.manifest.feeds.vuln_feed_bundle_digest !== 'latest' && x.manifest.environment.network === 'disabled');
    const picked = new Set<number>();
    for (let k = 0; k < Math.min(spec.nightly_sample, older.length); k++) {
      let i = Math.floor(sampler() * older.length);
      while (picked.has(i)) i = (i + 1) % older.length;
      picked.add(i);
    }
    for (const i of [...picked].sort((a, b) => a - b)) {
      const x = older[i];
      const nd = spec.nondeterminism.find((n) => n.project === x.project.project && x.day >= n.from_day && x.day <= n.to_day);
      plans.push({ scan: x, night: d, whatIf: {}, feed: x.feed, policy: x.policy, version: x.version, tz: tzTonight, cpus: nd?.replay_cpus ?? 2 });
    }
    // A feed update lands tomorrow: tonight's drift watch replays each project's latest scan against it.
    const nextFeed = d + 1 < spec.days ? feedOn(d + 1) : null;
    if (nextFeed && nextFeed.digest !== feed.digest) {
      for (const s of latest.values()) {
        if (s.manifest.feeds.vuln_feed_bundle_digest === 'latest') continue;
        plans.push({ scan: s, night: d, whatIf: { feed: nextFeed.digest }, feed: nextFeed, policy: s.policy, version: s.version, tz: tzTonight, cpus: 2 });
      }
    }
    // The policy change: for a few nights the watch replays older scans under the new policy.
    if (d >= spec.policy_change.day && d < spec.policy_change.day + spec.policy_change.watch_days) {
      for (const s of latest.values()) {
        if (s.policy.digest === policyV2.digest) continue;
        plans.push({ scan: s, night: d, whatIf: { policy: policyV2.digest }, feed: s.feed, policy: policyV2, version: s.version, tz: tzTonight, cpus: 2 });
      }
    }
    // The scanner release: a sample of older scans replayed with the new image (release verification).
    if (d >= spec.scanner_release.day && d < spec.scanner_release.day + spec.scanner_release.watch_days) {
      for (const s of latest.values()) {
        if (s.version === spec.scanner_release.to_version || sampler() >= spec.scanner_release.sample) continue;
        const v = spec.scanner_release.to_version;
        plans.push({ scan: s, night: d, whatIf: { scanner: demoImage(v) }, feed: s.feed, policy: s.policy, version: v, tz: tzTonight, cpus: 2 });
      }
    }
    // Revalidation of the unpinned historical scans against the current feed.
    if (d === spec.unpinned.revalidate_day) {
      for (const s of scans) {
        if (s.manifest.feeds.vuln_feed_bundle_digest !== 'latest') continue;
        plans.push({ scan: s, night: d, whatIf: { feed: feed.digest }, feed, policy: s.policy, version: s.version, tz: tzTonight, cpus: 2 });
      }
    }
    for (const s of dayScans) latest.set(s.project.project, s);
    emit({ kind: 'progress', id: 'demo-scans', done: d + 1, total: spec.days, label: date });
  }

  // The nights after the last day are not part of the history (they have not happened yet at "now").
  const kept = plans.filter((p) => p.night < spec.days - 1 || at(addDays(cal.dates[p.night], 1), 0) < cal.now);
  const causes: Record<string, number> = {};
  let failing = 0;
  emit({ kind: 'start', id: 'demo-replays', total: kept.length, label: 'replays' });
  const slot = new Map<number, number>();
  for (const [i, plan] of kept.entries()) {
    const n = slot.get(plan.night) ?? 0;
    slot.set(plan.night, n + 1);
    const record = await replayOne(plan, n, spec, cal, blobs, replaysDir, feedByDigest, demoImage(plan.version));
    if (record.status !== 'passed') failing++;
    if (record.mismatch_reason) causes[record.mismatch_reason] = (causes[record.mismatch_reason] ?? 0) + 1;
    emit({ kind: 'progress', id: 'demo-replays', done: i + 1, total: kept.length, label: record.replay_id });
  }

  rmSync(demoDir, { recursive: true, force: true });
  renameSync(stage, demoDir);
  emit({ kind: 'log', id: 'demo', message: 'indexing' });
  await indexDemo(o.home);
  const done: DemoMarker = { generator_version: DEMO_GENERATOR_VERSION, spec_digest: specDigest, now: cal.now, scans: scans.length, replays: kept.length, failing, causes };
  writeFileAtomic(path.join(o.home, DEMO_MARKER), JSON.stringify(done, null, 2) + '\n');
  return { home: o.home, built: true, now: cal.now, scans: scans.length, replays: kept.length, failing, causes };
}

/** Ingest the demo's records into `home/index.db`. */
async function indexDemo(home: string): Promise<void> {
  const { indexOwnRecords } = await import('./indexer.js');
  await indexOwnRecords(path.join(home, 'index.db'), [path.join(home, 'demo', 'scans'), path.join(home, 'demo', 'replays')], 'demo');
}

/** One replay: re-run the scanner as the night's job did, write the record, classify a mismatch. */
async function replayOne(
  plan: ReplayPlan,
  nth: number,
  spec: DemoSpec,
  cal: DemoCalendar,
  blobs: BlobStore,
  replaysDir: string,
  feeds: Map<string, Feed>,
  image: Digest,
): Promise<ReplayRecord> {
  const s = plan.scan;
  const rnd = seededRandom(spec.seed, `replay:${s.manifest.scan_id}:${plan.night}:${JSON.stringify(plan.whatIf)}`);
  const night = addDays(cal.dates[plan.night], 1);
  // The farm starts at 01:30 and works through its queue.
  const startMs = Date.parse(at(night, 90)) + nth * 45_000 + Math.floor(rnd() * 30_000);
  const startedAt = new Date(startMs).toISOString();
  const finishedAt = new Date(startMs + 8_000 + Math.floor(rnd() * 40_000)).toISOString();
  const m = s.manifest;
  const effective = effectiveManifest(m, plan.whatIf);
  const faults = faultsFromFlags(m.scanner.flags);
  // A replay with fault switches draws their clock and ids from a seed it records (repro re-uses it).
  const faultSeed = faults.length ? demoSeed(spec, `replay:${m.scan_id}:${plan.night}:${modeOf(plan.whatIf)}`) : null;
  // The version is the image's own (its baked-in release file): the new release reports itself.
  const docs = scanUnder(
    {
      packages: parseInputFile({ name: path.posix.basename(m.input.ref), bytes: blobs.get(m.input.digest) }).packages,
      records: plan.feed.records,
      policy: plan.policy.policy,
      manifest: effective,
      faults,
    },
    demoRuntime(plan.tz, plan.cpus, plan.version, faultSeed),
  );
  const bytes = serializeArtifacts(docs) as Record<ArtifactName, Buffer>;
  const outputs = computeOutputs(bytes);
  const mSha = manifestSha256(m);
  const id = replayId(mSha, 'docker', plan.whatIf, startedAt);
  const executor: ExecutorEnvironment = {
    kind: 'docker',
    image_digest: image,
    network: 'none',
    read_only: true,
    user: '65534:65534',
    tz: plan.tz,
    locale: m.environment.locale,
    clock_mode: m.environment.clock_mode,
    clock_value: m.environment.clock_value,
    cpus: plan.cpus,
    arch: m.environment.arch,
    os: m.environment.os,
    kernel: 'demo',
    engine_version: 'demo',
    assurance: 'high',
    ...runtimeFacts(effective, faultSeed !== null ? { faultSeed } : undefined),
  };
  const cmp = compareOutputs(s.outputs, outputs);
  const bf = cmp.bf_match === true;
  const artifacts: ReplayRecord['artifacts'] = {};
  for (const n of ARTIFACT_NAMES) artifacts[n] = { canonical_sha256: outputs[n].canonical_sha256 };
  let record: ReplayRecord = {
    replay_id: id,
    original_scan_id: m.scan_id,
    manifest_sha256: mSha,
    mode: modeOf(plan.whatIf),
    executor,
    started_at: startedAt,
    finished_at: finishedAt,
    status: bf ? 'passed' : 'failed',
    bf_match: bf,
    sf_match: bf ? true : null,
    pf_match: bf ? true : null,
    artifacts,
    mismatch_reason: null,
    subtags: [],
    diff_summary: null,
    ...(cmp.warnings.length ? { warnings: cmp.warnings } : {}),
  };
  const dir = path.join(replaysDir, id);
  if (!bf) {
    // Classified in memory, as `stella replay` does, then written once.
    const replayed = recordFromMemory(dir, effective, outputs, bytes, record);
    const full = await compareLoaded(loadRecord(s.dir), replayed, { blobs, force: true, resolveFeed: async (digest) => feeds.get(digest)?.records ?? null });
    record = { ...record, ...classifiedFields(full) };
  }
  await writeRecordDir(dir, { manifest: s.manifestBytes, artifacts: bytes, outputs, replay: record });
  return record;
}

/** A scan that ran with the network on: its id is re-derived so it still names what it pinned. */
function withNetwork(m: ScanManifest): ScanManifest {
  const copy = JSON.parse(JSON.stringify(m)) as ScanManifest;
  copy.environment.network = 'enabled';
  copy.scan_id = scanIdOf(copy);
  return copy;
}
