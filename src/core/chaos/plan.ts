// Chaos planning (reprotest-style): from one manifest, the list of runs that vary one thing about the
// execution environment at a time, then all of them at once. Pure: the values each variation uses are
// derived from the manifest, so the same manifest always gets the same plan.
import { StellaError } from '../errors.js';
import type { ScanManifest } from '../formats.js';

export type VariationName = 'tz' | 'locale' | 'cpus' | 'env' | 'file-order' | 'umask' | 'clock' | 'run-order';
/**
 * `clock` is reprotest's "time" variation: the process clock is frozen at another instant while the
 * manifest's clock_value stays. A scanner that reads only the manifest's clock does not notice; one that
 * reads the wall clock does (the executor's frozen clock otherwise hides that from every other run).
 */
export const VARIATIONS: readonly VariationName[] = ['tz', 'locale', 'cpus', 'env', 'file-order', 'umask', 'clock', 'run-order'];

/** What one run changes about the environment the scanner executes in. The manifest itself never changes. */
export interface RunSettings {
  tz: string;
  locale: string;
  /** CPU limit of the run and the CPU count the scanner process sees. */
  cpus: number;
  /** Extra environment variables set in the scanner process. */
  extra_env: Record<string, string>;
  /** Directory listings returned in reverse order (disorderfs-style). */
  reverse_readdir: boolean;
  /** Process umask, octal text (e.g. "0022"); null keeps the executor's default. */
  umask: string | null;
  /** Instant the process clock is frozen at; null = the manifest's clock_value (as a replay does). */
  clock: string | null;
}

export interface PlannedRun {
  /** `baseline`, a variation name, or `combined`. */
  name: string;
  variations: VariationName[];
  settings: RunSettings;
  /** 0-based position in execution order. run-order runs the unchanged job again, last. */
  order: number;
}

export interface ChaosPlan {
  baseline: PlannedRun;
  /** Single variations in the order given, then `combined` when more than one was asked for. */
  runs: PlannedRun[];
}

/** Parse `tz,locale,…`; the default is every variation. */
export function parseVariations(text: string | undefined): VariationName[] {
  if (text === undefined) return [...VARIATIONS];
  const names = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new StellaError('USAGE', `--variations: expected a comma-separated list of ${VARIATIONS.join(', ')}`);
  const out: VariationName[] = [];
  for (const n of names) {
    if (!(VARIATIONS as readonly string[]).includes(n)) {
      throw new StellaError('USAGE', `--variations: unknown variation '${n}' (expected ${VARIATIONS.join(', ')})`);
    }
    if (!out.includes(n as VariationName)) out.push(n as VariationName);
  }
  // Canonical order, so `cpus,tz` and `tz,cpus` plan the same runs.
  return VARIATIONS.filter((v) => out.includes(v));
}

/**
 * A zone whose local date differs from the UTC date at the scan's clock: UTC+14 moves the date forward
 * from 10:00 UTC on, UTC−12 moves it back before 12:00 UTC. Any rule that reads the local date instead
 * of the UTC one is then exposed. (POSIX `Etc/GMT-14` means UTC+14.)
 */
export function chaosTimeZone(m: ScanManifest): string {
  const t = Date.parse(m.environment.clock_value || m.created_at);
  const hour = Number.isNaN(t) ? 12 : new Date(t).getUTCHours();
  const candidate = hour >= 10 ? 'Etc/GMT-14' : 'Etc/GMT+12';
  return candidate === m.environment.tz ? 'Asia/Kolkata' : candidate;
}

/** Turkish casing (dotless i) and comma decimals break locale-sensitive code that C never exercises. */
export function chaosLocale(m: ScanManifest): string {
  return m.environment.locale === 'tr_TR.UTF-8' ? 'C' : 'tr_TR.UTF-8';
}

/**
 * One CPU more than the scan had (one fewer from 8 up): a different partition of the work among
 * workers. Halving or going to 1 can happen to partition a small input the same way.
 */
export function chaosCpus(m: ScanManifest): number {
  return m.environment.cpus >= 8 ? m.environment.cpus - 1 : m.environment.cpus + 1;
}

export const CHAOS_ENV: Readonly<Record<string, string>> = Object.freeze({
  HOME: '/nonexistent/chaos-home',
  USER: 'chaos',
  LOGNAME: 'chaos',
  SHELL: '/bin/false',
  LANGUAGE: 'tr:de',
  STELLA_CHAOS: '1',
});

export const CHAOS_UMASK = '0077';

/** Three days, seven hours and thirteen minutes after the scan's clock: a different date and time of day. */
export function chaosClock(m: ScanManifest): string {
  const t = Date.parse(m.environment.clock_value || m.created_at);
  const base = Number.isNaN(t) ? 0 : t;
  return new Date(base + ((3 * 24 + 7) * 60 + 13) * 60_000).toISOString();
}

function baseSettings(m: ScanManifest): RunSettings {
  return { tz: m.environment.tz, locale: m.environment.locale, cpus: m.environment.cpus, extra_env: {}, reverse_readdir: false, umask: null, clock: null };
}

function apply(settings: RunSettings, v: VariationName, m: ScanManifest): RunSettings {
  switch (v) {
    case 'tz':
      return { ...settings, tz: chaosTimeZone(m) };
    case 'locale':
      return { ...settings, locale: chaosLocale(m) };
    case 'cpus':
      return { ...settings, cpus: chaosCpus(m) };
    case 'env':
      return { ...settings, extra_env: { ...CHAOS_ENV } };
    case 'file-order':
      return { ...settings, reverse_readdir: true };
    case 'umask':
      return { ...settings, umask: CHAOS_UMASK };
    case 'clock':
      return { ...settings, clock: chaosClock(m) };
    case 'run-order':
      // Nothing in the environment changes: the same job runs again at another point of the batch.
      return settings;
    default: {
      const _exhaustive: never = v;
      return _exhaustive;
    }
  }
}

export function planChaos(m: ScanManifest, variations: readonly VariationName[]): ChaosPlan {
  const base = baseSettings(m);
  const baseline: PlannedRun = { name: 'baseline', variations: [], settings: base, order: 0 };
  const singles = variations.filter((v) => v !== 'run-order');
  const runs: PlannedRun[] = singles.map((v, i) => ({ name: v, variations: [v], settings: apply(base, v, m), order: i + 1 }));
  let next = singles.length + 1;
  if (variations.length > 1) {
    const all = variations.reduce((s, v) => apply(s, v, m), base);
    runs.push({ name: 'combined', variations: [...variations], settings: all, order: next++ });
  }
  // The repeat goes last so that anything a run leaves behind, or anything that changes from one run to
  // the next (random ids, the wall clock), shows up against the baseline.
  if (variations.includes('run-order')) runs.push({ name: 'run-order', variations: ['run-order'], settings: base, order: next++ });
  return { baseline, runs: sortByName(runs, variations) };
}

/** Report order: the variations in canonical order, `combined` last. */
function sortByName(runs: PlannedRun[], variations: readonly VariationName[]): PlannedRun[] {
  const rank = (r: PlannedRun) => (r.name === 'combined' ? variations.length : variations.indexOf(r.name as VariationName));
  return [...runs].sort((a, b) => rank(a) - rank(b));
}

/** Execution order (the `order` field), for the runner. */
export function executionOrder(plan: ChaosPlan): PlannedRun[] {
  return [plan.baseline, ...[...plan.runs].sort((a, b) => a.order - b.order)];
}
