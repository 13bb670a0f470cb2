// Bisecting a cause (SPEC §3 --what-if, §4): when two scans differ in more than one pinned component,
// or the static rules cannot tell which change mattered, replay A with one of B's pins at a time and see
// which swap reproduces B's outputs. Pure: planning and judging only; the app layer runs the replays.
import type { ArtifactName, ScanManifest } from '../formats.js';
import type { Comparison } from '../diff/types.js';
import { ARTIFACT_NAMES } from '../formats.js';

export type SwapKey = 'feed' | 'policy' | 'scanner';
export const SWAP_KEYS: readonly SwapKey[] = ['feed', 'policy', 'scanner'];

export interface Swap {
  key: SwapKey;
  from: string;
  to: string;
}

export interface BisectPlan {
  /** Pinned components that differ and can be swapped by --what-if, in a fixed order. */
  swaps: Swap[];
  /** Differences --what-if cannot swap (environment, flags, input): reported, never replayed. */
  unswappable: Array<{ path: string; a: unknown; b: unknown }>;
}

function pinOf(m: ScanManifest, key: SwapKey): string {
  switch (key) {
    case 'feed':
      return m.feeds.vuln_feed_bundle_digest;
    case 'policy':
      return m.policy.policy_bundle_digest;
    case 'scanner':
      return m.scanner.scanner_image_digest;
    default: {
      const _exhaustive: never = key;
      return _exhaustive;
    }
  }
}

const UNSWAPPABLE_PATHS: ReadonlyArray<readonly [string, (m: ScanManifest) => unknown]> = [
  ['$.input.digest', (m) => m.input.digest],
  ['$.scanner.flags', (m) => m.scanner.flags.join(' ')],
  ['$.scanner.config_digest', (m) => m.scanner.config_digest],
  ['$.environment.tz', (m) => m.environment.tz],
  ['$.environment.locale', (m) => m.environment.locale],
  ['$.environment.arch', (m) => m.environment.arch],
  ['$.environment.cpus', (m) => m.environment.cpus],
  ['$.environment.clock_value', (m) => m.environment.clock_value],
];

export function planBisect(a: ScanManifest, b: ScanManifest): BisectPlan {
  const swaps: Swap[] = [];
  for (const key of SWAP_KEYS) {
    const from = pinOf(a, key);
    const to = pinOf(b, key);
    if (from !== to) swaps.push({ key, from, to });
  }
  const unswappable = UNSWAPPABLE_PATHS.flatMap(([path, get]) => (get(a) === get(b) ? [] : [{ path, a: get(a), b: get(b) }]));
  return { swaps, unswappable };
}

/** The trials to run: each swap alone, then all together when there is more than one. */
export function bisectTrials(plan: BisectPlan): SwapKey[][] {
  const singles = plan.swaps.map((s) => [s.key]);
  return plan.swaps.length > 1 ? [...singles, plan.swaps.map((s) => s.key)] : singles;
}

/**
 * Artifacts whose MEANING differs between two records. Bisect compares different scans, whose bytes
 * always differ (the findings carry their scan id), so it judges semantically (SF, PF).
 */
export function semanticallyDiffering(c: Comparison): ArtifactName[] {
  const { packages, vulnerabilities, vex, verdict } = c.sf;
  const differs: Record<ArtifactName, boolean> = {
    sbom: packages.added.length + packages.removed.length + packages.changed.length > 0,
    findings:
      vulnerabilities.appeared.length + vulnerabilities.disappeared.length + vulnerabilities.severity_changed.length + vulnerabilities.fix_changed.length > 0,
    vex: vex.status_flips.length > 0,
    verdict: !verdict.match || !c.pf.match,
  };
  return ARTIFACT_NAMES.filter((n) => differs[n]);
}

export interface TrialOutcome {
  swap: SwapKey[];
  /** Artifacts still differing from B after the swap, or null when the replay errored. */
  remaining: ArtifactName[] | null;
  error?: string;
}

export interface JudgedTrial extends TrialOutcome {
  /** Artifacts that differed between A and B and that this trial made equal to B. */
  reproduces: ArtifactName[];
  /** Every artifact means the same as B's. */
  full: boolean;
}

export interface BisectVerdict {
  /** Artifacts that differ in meaning between A and B. */
  differs: ArtifactName[];
  trials: JudgedTrial[];
  /** The smallest swap set that reproduces B; [] when nothing differs; null when no swap does. */
  culprit: SwapKey[] | null;
  explanation: string;
}

export function judgeBisect(differs: ArtifactName[], plan: BisectPlan, outcomes: TrialOutcome[]): BisectVerdict {
  const trials: JudgedTrial[] = outcomes.map((o) => {
    const left = o.remaining;
    const reproduces = left ? differs.filter((n) => !left.includes(n)) : [];
    return { ...o, reproduces, full: left !== null && left.length === 0 };
  });
  // Trials are ordered singles first, so the first full one is the smallest.
  const winner = trials.find((t) => t.full) ?? null;
  const culprit = differs.length === 0 ? [] : winner ? winner.swap : null;
  return { differs, trials, culprit, explanation: explain(differs, trials, culprit, plan) };
}

function explain(differs: ArtifactName[], trials: JudgedTrial[], culprit: SwapKey[] | null, plan: BisectPlan): string {
  if (differs.length === 0) return 'A and B mean the same (SF and PF match): nothing to bisect.';
  const what = differs.join(', ');
  if (plan.swaps.length === 0) {
    return `A and B differ in ${what} but pin the same feed, policy and scanner: the cause is outside the pins (${
      plan.unswappable.map((u) => u.path).join(', ') || 'nondeterminism'
    }).`;
  }
  if (trials.length > 0 && trials.every((t) => t.remaining === null)) {
    return `no trial replay ran to completion (${trials[0].error ?? 'error'}): nothing can be concluded.`;
  }
  if (culprit && culprit.length === 1) {
    const partial = trials.filter((t) => t.swap.length === 1 && t.swap[0] !== culprit[0] && t.reproduces.length > 0);
    return `swapping the ${culprit[0]} alone reproduces B (${what})${
      partial.length ? `; ${partial.map((t) => `${t.swap[0]} alone reproduces ${t.reproduces.join(', ')}`).join('; ')}` : ''
    }.`;
  }
  if (culprit) {
    const parts = trials
      .filter((t) => t.swap.length === 1)
      .map((t) => `${t.swap[0]} → ${t.reproduces.length ? t.reproduces.join(', ') : 'nothing'}`)
      .join('; ');
    return `no single swap reproduces B; together ${culprit.join(' + ')} do (${parts}).`;
  }
  const rest = plan.unswappable.map((u) => u.path);
  return `no swap of ${plan.swaps.map((s) => s.key).join(', ')} reproduces B's ${what}: the rest of the difference comes from ${
    rest.length ? rest.join(', ') : 'nondeterminism or the environment'
  }.`;
}
