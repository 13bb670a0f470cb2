// Policy verdict v1: the policy engine's decision for these findings at the scan clock.
import type { Finding, VerdictDoc } from '../../core/formats.js';
import { evaluatePolicy, type CompiledPolicy } from '../../core/policy/policy.js';

export interface VerdictOptions {
  ecosystem: string;
  clock: string;
  /** Fault switch `tz-date-rule`: date rules count calendar days in this zone instead of UTC. */
  dateRuleTimeZone?: string;
}

export function buildVerdict(policy: CompiledPolicy, findings: Finding[], opts: VerdictOptions): VerdictDoc {
  return evaluatePolicy(policy, {
    findings,
    ecosystem: opts.ecosystem,
    clock: opts.clock,
    ...(opts.dateRuleTimeZone !== undefined ? { dateRuleTimeZone: opts.dateRuleTimeZone } : {}),
  });
}
