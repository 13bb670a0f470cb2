// `stella sample` and the nightly's first step: the pure sampler (src/core/sample) over the store's
// scans. The sampler names the bounds (`sampleBounds`); the store places the scans those bounds decide
// in label groups — their counts, and the ids whose rank falls below a cut the counts set — and hands
// over the rest (window edges, odd offsets, canaries) as candidates, which the sampler decides itself.
// Either backend hands over the same scans.
import { type SampleResult, type StratumDim, STRATUM_DIMS, sampleBounds, sampleGrouped } from '../core/sample/index.js';
import type { ReplayStore } from '../core/ports.js';
import { StellaError } from '../core/errors.js';

export interface SampleRequest {
  n: number;
  by: StratumDim[];
  windowDays: number;
  seed: number;
  now: Date;
  canaries?: readonly string[];
  minPerStratum?: number;
  recentDays?: number;
}

export function parseBy(value: string | undefined): StratumDim[] {
  if (value === undefined || value === '') return [...STRATUM_DIMS];
  return value.split(',').map((d) => {
    if (!(STRATUM_DIMS as readonly string[]).includes(d)) throw new StellaError('USAGE', `--by: cannot stratify by '${d}': use any of ${STRATUM_DIMS.join(',')}`);
    return d as StratumDim;
  });
}

export async function sampleFromStore(store: Pick<ReplayStore, 'sampleGroups'>, r: SampleRequest): Promise<SampleResult> {
  const options = {
    n: r.n,
    by: r.by,
    seed: r.seed,
    now: r.now.toISOString(),
    windowDays: r.windowDays,
    ...(r.minPerStratum !== undefined ? { minPerStratum: r.minPerStratum } : {}),
    ...(r.recentDays !== undefined ? { recentDays: r.recentDays } : {}),
  };
  const canaries = new Set(r.canaries ?? []);
  const ask = async (cut: boolean) => {
    const { groups, candidates } = await store.sampleGroups(sampleBounds(options, cut), [...canaries].sort());
    return sampleGrouped({ groups, candidates: candidates.map((c) => (canaries.has(c.scan_id) ? { ...c, canary: true } : c)) }, options);
  };
  // The store cuts each group's ids by rank; in the rare case a stratum needs more, every id is asked for.
  return (await ask(true)) ?? (await ask(false))!;
}

/** The strata table as the CLI prints it. */
export function strataTable(s: SampleResult): string {
  const head = ['stratum', 'population', 'recent', 'share', 'allocated', 'canaries'];
  const rows = s.strata.map((t) => [t.key, String(t.population), String(t.recent), `${(t.share * 100).toFixed(1)}%`, String(t.allocated), String(t.canaries)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  const chosen = s.chosen.length;
  const canaries = s.chosen.filter((c) => c.reason === 'canary').length;
  return [
    `sample of ${s.n} from ${s.population} scans (${s.window.from} … ${s.window.to}), seed ${s.seed}, by ${s.by.join(',') || 'nothing'}: ` +
      `${chosen} chosen (${canaries} canaries)`,
    line(head),
    ...rows.map(line),
  ].join('\n') + '\n';
}
