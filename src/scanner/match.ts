// The matcher: packages × OSV records → findings (SPEC §2).
//
// 1. Index every non-withdrawn record's `affected` entries once by (OSV ecosystem, normalised name).
//    Ecosystem names compare exactly, release included (`Debian:11`, `Ubuntu:22.04:LTS`, `Alpine:v3.19`):
//    a package of `Debian:11` is looked up under `Debian:11`, and under the bare `Debian` (a record that
//    names no release covers them all), never under `Debian:12`. Names compare exactly too, except PyPI
//    (PEP 503: lowercase, `-_.` runs → `-`). Maven names are `group:artifact` in both OSV and ScanPackage.
//    OS advisories are keyed by source package (dpkg `Source:`, apk origin, source rpm): a package with
//    a `sourceName` is looked up under it (and its `sourceVersion`, when given, is the version compared);
//    rpm distributions' records name binary rpms too, so there the binary name is looked up as well.
// 2. A package version is affected by an entry when it is listed in `versions`, or when one of the
//    entry's SEMVER / ECOSYSTEM ranges says so under the OSV evaluation rules: events sorted by version
//    (`introduced: "0"` first), then `introduced` opens, `fixed` closes at that version, `last_affected`
//    closes just after it. SEMVER ranges compare as SemVer; ECOSYSTEM ranges with the ecosystem's
//    order (chosen from the part of the ecosystem before the first `:`). GIT ranges name commits, not
//    versions, and are ignored.
// 3. Records that hit the same package and share an id (directly or through aliases, transitively)
//    become ONE finding.
import { createHash } from 'node:crypto';
import { StellaError, jsonPath } from '../core/errors.js';
import { canonicalString } from '../core/canonical/jcs.js';
import type { Digest, Finding, PackageRef } from '../core/formats.js';
import type { OsvRecord, OsvRecordEntry, ScanPackage } from './types.js';
import { baseEcosystem, comparatorFor, compareSemver, schemeFor, type Comparator } from './versions/index.js';
import { normalizePypiName } from './purl.js';
import { severityOf } from './severity.js';
import { isObject } from '../core/guards.js';

export interface MatchOptions {
  /**
   * `sorted` (default): findings sorted by (vulnerability_id, purl), sources by record path.
   * `{cpus}`: the scanner's "concurrency" fault switch — packages are dealt round-robin to `cpus`
   * simulated workers and findings/sources come out in simulated completion order, a deterministic
   * function of `cpus` (so two replays with different CPU counts differ only in order).
   */
  workerOrder?: 'sorted' | { cpus: number };
}

type Event = { introduced?: string; fixed?: string; last_affected?: string; limit?: string };
type Range = { type: string; events: Event[] };

interface IndexedAffected {
  entry: OsvRecordEntry;
  /** Position of the record in path order: the default visiting order. */
  order: number;
  affectedIndex: number;
  ecosystem: string;
  ranges: Range[];
  versions: string[];
  /** Fixed versions named by this entry's version ranges (GIT commits excluded). */
  fixed: string[];
}

export interface MatchIndex {
  byPackage: Map<string, IndexedAffected[]>;
  records: number;
  /** Base ecosystem (before the first `:`) → the full ecosystem strings the records use, sorted. */
  ecosystems: Map<string, string[]>;
}

/** Name as compared for matching within an ecosystem. */
export function normalizePackageName(ecosystem: string, name: string): string {
  return ecosystem === 'PyPI' ? normalizePypiName(name) : name;
}

function key(ecosystem: string, name: string): string {
  return `${ecosystem}\u0000${normalizePackageName(ecosystem, name)}`;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- record validation: bad feed data names the record file and the JSON path -----------------------

function invalid(entry: OsvRecordEntry, segments: Array<string | number>, what: string): StellaError {
  return new StellaError('RECORD_INVALID', `OSV record: ${what}`, { file: entry.path, path: jsonPath(segments) });
}

function checkStringArray(entry: OsvRecordEntry, v: unknown, at: Array<string | number>): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw invalid(entry, at, 'expected an array of strings');
  v.forEach((s, i) => {
    if (typeof s !== 'string') throw invalid(entry, [...at, i], 'expected a string');
  });
}

const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

function validateRecord(entry: OsvRecordEntry): void {
  const r: unknown = entry.record;
  if (!isObject(r)) throw invalid(entry, [], 'expected an object');
  if (typeof r.id !== 'string' || r.id === '') throw invalid(entry, ['id'], 'expected a non-empty string id');
  for (const k of ['withdrawn', 'published', 'modified', 'summary'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'string') throw invalid(entry, [k], 'expected a string');
  }
  checkStringArray(entry, r.aliases, ['aliases']);
  if (r.affected === undefined) return;
  if (!Array.isArray(r.affected)) throw invalid(entry, ['affected'], 'expected an array');
  r.affected.forEach((a: unknown, ai: number) => {
    const at = ['affected', ai];
    if (!isObject(a)) throw invalid(entry, at, 'expected an object');
    if (a.package !== undefined) {
      if (!isObject(a.package)) throw invalid(entry, [...at, 'package'], 'expected an object');
      for (const k of ['ecosystem', 'name'] as const) {
        if (typeof a.package[k] !== 'string') throw invalid(entry, [...at, 'package', k], 'expected a string');
      }
    }
    checkStringArray(entry, a.versions, [...at, 'versions']);
    if (a.ranges === undefined) return;
    if (!Array.isArray(a.ranges)) throw invalid(entry, [...at, 'ranges'], 'expected an array');
    a.ranges.forEach((range: unknown, ri: number) => {
      const rat = [...at, 'ranges', ri];
      if (!isObject(range)) throw invalid(entry, rat, 'expected an object');
      if (typeof range.type !== 'string') throw invalid(entry, [...rat, 'type'], 'expected a string');
      if (!Array.isArray(range.events)) throw invalid(entry, [...rat, 'events'], 'expected an array');
      range.events.forEach((ev: unknown, ei: number) => {
        const eat = [...rat, 'events', ei];
        if (!isObject(ev)) throw invalid(entry, eat, 'expected an object');
        const kinds = EVENT_KINDS.filter((k) => ev[k] !== undefined);
        if (kinds.length !== 1) throw invalid(entry, eat, 'an event needs exactly one of introduced, fixed, last_affected, limit');
        if (typeof ev[kinds[0]] !== 'string') throw invalid(entry, [...eat, kinds[0]], 'expected a version string');
      });
    });
  });
}

// ---- index -------------------------------------------------------------------------------------------

function isVersionRange(r: Range): boolean {
  return r.type === 'SEMVER' || r.type === 'ECOSYSTEM';
}

/** Validate and index records once; reuse the index for many package lists. Withdrawn records are dropped. */
export function buildMatchIndex(records: OsvRecordEntry[]): MatchIndex {
  const sorted = [...records].sort((a, b) => compareCodeUnits(a.path, b.path) || compareCodeUnits(a.sha256, b.sha256));
  const byPackage = new Map<string, IndexedAffected[]>();
  let count = 0;
  sorted.forEach((entry, order) => {
    validateRecord(entry);
    const record = entry.record;
    if (record.withdrawn !== undefined) return;
    count++;
    (record.affected ?? []).forEach((a, affectedIndex) => {
      if (!a.package) return;
      const ranges = (a.ranges ?? []) as Range[];
      const fixed = ranges.filter(isVersionRange).flatMap((r) => r.events.flatMap((e) => (e.fixed !== undefined ? [e.fixed] : [])));
      const k = key(a.package.ecosystem, a.package.name);
      let list = byPackage.get(k);
      if (!list) byPackage.set(k, (list = []));
      list.push({ entry, order, affectedIndex, ecosystem: a.package.ecosystem, ranges, versions: a.versions ?? [], fixed });
    });
  });
  const ecosystems = new Map<string, string[]>();
  for (const list of byPackage.values()) {
    const eco = list[0].ecosystem;
    const base = baseEcosystem(eco);
    const known = ecosystems.get(base);
    if (!known) ecosystems.set(base, [eco]);
    else if (!known.includes(eco)) known.push(eco);
  }
  for (const list of ecosystems.values()) list.sort(compareCodeUnits);
  return { byPackage, records: count, ecosystems };
}

// ---- affectedness ------------------------------------------------------------------------------------

function eventVersion(e: Event): string {
  return (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit) as string;
}

/** OSV spec "Evaluation": is `version` inside the range described by `events`? */
export function inRange(events: Event[], version: string, cmp: Comparator): boolean {
  // Sort by version first (records do not always list events in order); `introduced: "0"` is the bottom.
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((x, y) => {
      const xv = eventVersion(x.e);
      const yv = eventVersion(y.e);
      const xz = x.e.introduced === '0';
      const yz = y.e.introduced === '0';
      if (xz || yz) return xz && yz ? x.i - y.i : xz ? -1 : 1;
      return cmp(xv, yv) || x.i - y.i;
    });
  let affected = false;
  for (const { e } of sorted) {
    if (e.introduced !== undefined) {
      if (e.introduced === '0' || cmp(version, e.introduced) >= 0) affected = true;
    } else if (e.fixed !== undefined) {
      if (cmp(version, e.fixed) >= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if (cmp(version, e.last_affected) > 0) affected = false;
    }
    // `limit` only bounds GIT ranges (OSV spec); version ranges ignore it.
  }
  return affected;
}

function affects(a: IndexedAffected, version: string): boolean {
  const cmp = comparatorFor(a.ecosystem);
  for (const v of a.versions) if (v === version || cmp(v, version) === 0) return true;
  for (const r of a.ranges) {
    if (r.type === 'SEMVER') {
      if (inRange(r.events, version, compareSemver)) return true;
    } else if (r.type === 'ECOSYSTEM') {
      if (inRange(r.events, version, cmp)) return true;
    }
  }
  return false;
}

// ---- findings ----------------------------------------------------------------------------------------

interface Hit {
  entry: OsvRecordEntry;
  affectedIndexes: number[];
  fixed: string[];
}

/** The finding id: `fnd_` + 16 hex of sha256 over canonical JSON [vulnerability_id, purl]. */
export function findingId(vulnerabilityId: string, purl: string): string {
  // Deliberately left out: severity, fixed versions, summary, dates and sources — they change when the
  // feed is refreshed, while the finding (this vulnerability in this package version) stays the same.
  return 'fnd_' + createHash('sha256').update(canonicalString([vulnerabilityId, purl])).digest('hex').slice(0, 16);
}

// Go's vulndb writes its zero time `0001-01-01T00:00:00Z` for "not recorded"; it is no date at all.
function realDate(s: string | undefined): string | undefined {
  return s === undefined || s.startsWith('0001-01-01') ? undefined : s;
}

function time(s: string | undefined): number {
  const t = s === undefined ? NaN : Date.parse(s);
  return Number.isNaN(t) ? Infinity : t;
}

function earliest(values: Array<string | undefined>): string | null {
  let best: string | null = null;
  for (const raw of values) {
    const v = realDate(raw);
    if (v === undefined) continue;
    if (best === null || time(v) < time(best) || (time(v) === time(best) && v < best)) best = v;
  }
  return best;
}

function latest(values: Array<string | undefined>): string | null {
  let best: string | null = null;
  for (const raw of values) {
    const v = realDate(raw);
    if (v === undefined) continue;
    if (best === null || time(v) > time(best) || (time(v) === time(best) && v > best)) best = v;
  }
  return best;
}

/** Group hits whose records share any id (own id or alias), transitively: union-find over ids. */
function groupByAlias(hits: Hit[]): Hit[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let c = x;
    while (c !== r) {
      const n = parent.get(c)!;
      parent.set(c, r);
      c = n;
    }
    return r;
  };
  const add = (x: string) => {
    if (!parent.has(x)) parent.set(x, x);
  };
  for (const h of hits) {
    const ids = [h.entry.record.id, ...(h.entry.record.aliases ?? [])];
    ids.forEach(add);
    for (const other of ids) {
      const a = find(ids[0]);
      const b = find(other);
      if (a !== b) parent.set(b, a);
    }
  }
  // Groups in the order their first hit was visited; hits inside a group keep visiting order.
  const groups = new Map<string, Hit[]>();
  for (const h of hits) {
    const root = find(h.entry.record.id);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = []));
    g.push(h);
  }
  return [...groups.values()];
}

function chooseVulnerabilityId(ids: string[]): string {
  const sorted = [...ids].sort(compareCodeUnits);
  return sorted.find((id) => id.startsWith('CVE-')) ?? sorted[0];
}

function buildFinding(pkg: ScanPackage, group: Hit[]): Finding {
  const ecosystem = pkg.ecosystem;
  const ids = new Set<string>();
  for (const h of group) {
    ids.add(h.entry.record.id);
    for (const a of h.entry.record.aliases ?? []) ids.add(a);
  }
  const vulnerabilityId = chooseVulnerabilityId([...ids]);
  const aliases = [...ids].filter((id) => id !== vulnerabilityId).sort(compareCodeUnits);

  // Severity and summary come from the records in a fixed order independent of visiting order:
  // the record named by the chosen id first, then by id.
  const byAuthority = [...group].sort((a, b) => {
    const ap = a.entry.record.id === vulnerabilityId ? 0 : 1;
    const bp = b.entry.record.id === vulnerabilityId ? 0 : 1;
    return ap - bp || compareCodeUnits(a.entry.record.id, b.entry.record.id) || compareCodeUnits(a.entry.path, b.entry.path);
  });
  let sev = { severity: 'unknown', cvss_vector: null, cvss_score: null } as ReturnType<typeof severityOf>;
  for (const h of byAuthority) {
    const s = h.affectedIndexes.map((i) => severityOf(h.entry.record, i)).find((x) => x.severity !== 'unknown');
    if (s) {
      sev = s;
      break;
    }
  }
  const summary = byAuthority.map((h) => summaryOf(h.entry.record)).find((s) => s !== '') ?? '';

  const cmp = comparatorFor(ecosystem);
  const fixed = [...new Set(group.flatMap((h) => h.fixed))].sort((a, b) => cmp(a, b) || compareCodeUnits(a, b));

  const seen = new Set<string>();
  const sources: Finding['sources'] = [];
  for (const h of group) {
    if (seen.has(h.entry.path)) continue;
    seen.add(h.entry.path);
    sources.push({ id: h.entry.record.id, path: h.entry.path, sha256: h.entry.sha256 as Digest });
  }

  const packageRef: PackageRef = { ecosystem, name: pkg.name, version: pkg.version, purl: pkg.purl };
  return {
    id: findingId(vulnerabilityId, pkg.purl),
    vulnerability_id: vulnerabilityId,
    aliases,
    package: packageRef,
    severity: sev.severity,
    cvss_vector: sev.cvss_vector,
    cvss_score: sev.cvss_score,
    fixed_versions: fixed,
    summary,
    published: earliest(group.map((h) => h.entry.record.published)),
    modified: latest(group.map((h) => h.entry.record.modified)),
    fix_available_since: earliest(group.filter((h) => h.fixed.length > 0).map((h) => h.entry.record.published)),
    sources,
  };
}

function summaryOf(r: OsvRecord): string {
  if (r.summary && r.summary.trim() !== '') return r.summary.trim();
  const first = (r.details ?? '').trim().split('\n')[0] ?? '';
  return first.trim();
}

/**
 * Ecosystems whose OSV records name binary rpms as well as (or instead of) the source rpm: both names
 * are looked up. (AlmaLinux and Rocky list every subpackage, e.g. `openssl` and `openssl-libs`.)
 */
const BINARY_OR_SOURCE = new Set(['Red Hat', 'SUSE', 'openSUSE', 'AlmaLinux', 'Rocky Linux']);

/** The names a package is looked up under: its source package when it has one (OS advisories). */
function lookupNames(pkg: ScanPackage): string[] {
  if (pkg.sourceName === undefined || pkg.sourceName === pkg.name) return [pkg.name];
  return BINARY_OR_SOURCE.has(baseEcosystem(pkg.ecosystem)) ? [pkg.sourceName, pkg.name] : [pkg.sourceName];
}

/**
 * The ecosystems a package is looked up under: its own (with release) and, if that has one, the bare
 * one. Red Hat records name a product stream (`Red Hat:enterprise_linux:9::appstream`) that an rpm
 * database does not record, so a `Red Hat:enterprise_linux:9` package takes every stream of its product.
 */
function lookupEcosystems(index: MatchIndex, pkg: ScanPackage): string[] {
  const eco = pkg.ecosystem;
  const base = baseEcosystem(eco);
  if (base === eco) return [eco];
  const out = [eco, base];
  if (base === 'Red Hat') for (const e of index.ecosystems.get(base) ?? []) if (e.startsWith(`${eco}::`)) out.push(e);
  return out;
}

/** The version compared against the records: the source version when the package records one. */
function matchedVersion(pkg: ScanPackage): string {
  return pkg.sourceName !== undefined && pkg.sourceVersion !== undefined ? pkg.sourceVersion : pkg.version;
}

/** Every indexed `affected` entry that names this package, each once, in record path order. */
function candidatesFor(index: MatchIndex, pkg: ScanPackage): IndexedAffected[] {
  const lists: IndexedAffected[][] = [];
  for (const eco of lookupEcosystems(index, pkg)) {
    for (const name of lookupNames(pkg)) {
      const list = index.byPackage.get(key(eco, name));
      if (list) lists.push(list);
    }
  }
  if (lists.length <= 1) return lists[0] ?? [];
  // Several keys (release and bare ecosystem, source and binary name): merge back into path order.
  return lists.flat().sort((a, b) => a.order - b.order || a.affectedIndex - b.affectedIndex);
}

/**
 * Scan notes for the packages whose versions were compared with the generic fallback order: their
 * ecosystem is one OSV leaves unordered, so a range verdict on them is a best effort. One note per
 * package that has at least one record to compare against, sorted.
 */
export function genericOrderNotes(packages: ScanPackage[], index: MatchIndex): string[] {
  const notes = new Set<string>();
  for (const p of uniqueByPurl(packages)) {
    if (schemeFor(p.ecosystem) !== 'generic') continue;
    const compared = candidatesFor(index, p).some((c) => c.versions.length > 0 || c.ranges.some((r) => r.type === 'ECOSYSTEM'));
    if (compared) notes.add(`${p.purl}: OSV defines no version order for ecosystem ${JSON.stringify(p.ecosystem)}; compared with the generic order`);
  }
  return [...notes].sort(compareCodeUnits);
}

/** Records hitting one package, in visiting order (path order, rotated by `rotate` for a simulated worker). */
function hitsFor(index: MatchIndex, pkg: ScanPackage, rotate: number): { hits: Hit[]; visited: number } {
  const candidates = candidatesFor(index, pkg);
  const version = matchedVersion(pkg);
  const hitsByPath = new Map<string, Hit>();
  const n = candidates.length;
  for (let j = 0; j < n; j++) {
    const c = candidates[(j + rotate) % n];
    if (!affects(c, version)) continue;
    let h = hitsByPath.get(c.entry.path);
    if (!h) hitsByPath.set(c.entry.path, (h = { entry: c.entry, affectedIndexes: [], fixed: [] }));
    h.affectedIndexes.push(c.affectedIndex);
  }
  // Fixes come from every entry of a hit record for this package, not only the entry that matched:
  // a user on 7.23.1 should also learn about the 8.0.0-alpha.4 fix on the other branch.
  if (hitsByPath.size > 0) {
    for (const c of candidates) hitsByPath.get(c.entry.path)?.fixed.push(...c.fixed);
  }
  return { hits: [...hitsByPath.values()], visited: n };
}

function findingsFor(index: MatchIndex, pkg: ScanPackage, rotate: number): { findings: Finding[]; cost: number } {
  const { hits, visited } = hitsFor(index, pkg, rotate);
  return { findings: groupByAlias(hits).map((g) => buildFinding(pkg, g)), cost: 1 + visited };
}

function uniqueByPurl(packages: ScanPackage[]): ScanPackage[] {
  const seen = new Set<string>();
  const out: ScanPackage[] = [];
  for (const p of packages) {
    if (seen.has(p.purl)) continue;
    seen.add(p.purl);
    out.push(p);
  }
  return out;
}

export function compareFindings(a: Finding, b: Finding): number {
  return compareCodeUnits(a.vulnerability_id, b.vulnerability_id) || compareCodeUnits(a.package.purl, b.package.purl) || compareCodeUnits(a.id, b.id);
}

/** Match packages against an index built once with buildMatchIndex. */
export function matchWithIndex(packages: ScanPackage[], index: MatchIndex, opts: MatchOptions = {}): Finding[] {
  // One finding per (vulnerability, purl): a package listed twice (two lockfiles) is matched once.
  const unique = uniqueByPurl(packages);
  const order = opts.workerOrder ?? 'sorted';
  if (order === 'sorted') {
    const out: Finding[] = [];
    for (const p of unique) out.push(...findingsFor(index, p, 0).findings);
    return out.sort(compareFindings);
  }
  const cpus = order.cpus;
  if (!Number.isInteger(cpus) || cpus < 1) throw new StellaError('USAGE', `workerOrder.cpus must be a positive integer, got ${String(cpus)}`);
  // Simulated workers: package i goes to worker i % cpus; each worker starts its record scan at a
  // worker-specific offset and spends (1 + candidates) time units per package. Findings are emitted in
  // completion order, ties broken by worker number — deterministic for a given cpus, different across.
  const done: Array<{ at: number; worker: number; seq: number; findings: Finding[] }> = [];
  const clocks = new Array<number>(cpus).fill(0);
  unique.forEach((p, i) => {
    const worker = i % cpus;
    const { findings, cost } = findingsFor(index, p, worker);
    clocks[worker] += cost;
    done.push({ at: clocks[worker], worker, seq: i, findings });
  });
  done.sort((a, b) => a.at - b.at || a.worker - b.worker || a.seq - b.seq);
  return done.flatMap((d) => d.findings);
}

/** Match packages against OSV records (SPEC §2). Pure: no IO, no clock. */
export function matchPackages(packages: ScanPackage[], records: OsvRecordEntry[], opts: MatchOptions = {}): Finding[] {
  return matchWithIndex(packages, buildMatchIndex(records), opts);
}
