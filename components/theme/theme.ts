// Colours and glyphs. chalk ignores NO_COLOR and FORCE_COLOR=0 also strips inverse, so no-colour mode
// is decided here: with `color: false` views pass no colour props at all but keep bold/inverse, and
// the cursor (`>`) and mark glyph are text, so the screen reads with no colour whatsoever.
import { percentText } from '../../src/core/fidelity/index.js';

export interface Theme {
  color: boolean;
  ascii: boolean;
  cursor: string;
  mark: string;
  unmarked: string;
  spark: readonly string[];
  bar: string;
  ok: string | undefined;
  warn: string | undefined;
  bad: string | undefined;
  dim: string | undefined;
  accent: string | undefined;
  vbar: string;
  arrow: string;
}

export function makeTheme(opts: { color: boolean; ascii: boolean }): Theme {
  const c = (name: string): string | undefined => (opts.color ? name : undefined);
  return {
    color: opts.color,
    ascii: opts.ascii,
    cursor: '>',
    mark: opts.ascii ? '*' : '●',
    unmarked: ' ',
    spark: opts.ascii ? ['_', '.', '-', '=', '^', '#'] : ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
    bar: opts.ascii ? '#' : '█',
    ok: c('green'),
    warn: c('yellow'),
    bad: c('red'),
    dim: c('gray'),
    accent: c('cyan'),
    vbar: '|',
    arrow: opts.ascii ? '->' : '→',
  };
}

/** Decide colour and glyph set from the environment: NO_COLOR / --no-color, and a non-UTF-8 locale → ASCII. */
export function themeFromEnv(env: NodeJS.ProcessEnv, flags: { noColor?: boolean; ascii?: boolean } = {}): Theme {
  const noColor = flags.noColor === true || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  const utf8 = /utf-?8/i.test(locale);
  return makeTheme({ color: !noColor, ascii: flags.ascii === true || !utf8 });
}

/** A sparkline of values in [0,1] (null = no data), one glyph per value. */
export function sparkline(values: ReadonlyArray<number | null>, theme: Theme): string {
  const g = theme.spark;
  return values.map((v) => (v === null ? ' ' : g[Math.min(g.length - 1, Math.max(0, Math.round(v * (g.length - 1))))])).join('');
}

/** A fidelity as the gate words it (rounded down, so a screen never shows a pass the gate refuses). */
export const pct = (v: number | null): string => (v === null ? '  n/a' : percentText(v).padStart(6));

/** Cut or pad to exactly `w` terminal cells (the data is ASCII-ish; wide glyphs are not expected). */
export function fit(s: string, w: number): string {
  if (w <= 0) return '';
  if (s.length > w) return w === 1 ? s.slice(0, 1) : s.slice(0, w - 1) + '~';
  return s.padEnd(w);
}

/**
 * Word-wrap to lines of at most `w` cells, breaking after a space (dropped), `|` or `,` (kept); at most
 * `max` lines, the last cut with `~` when the text runs past it. A word that would leave a line more
 * than a third empty is cut at the edge instead.
 */
export function wrap(s: string, w: number, max = 2): string[] {
  if (w <= 0) return [''];
  const lines: string[] = [];
  let rest = s;
  while (rest.length > w && lines.length < max - 1) {
    const head = rest.slice(0, w + 1);
    let at = -1;
    for (let i = head.length - 1; i > 0 && at < 0; i--) {
      if (head[i] === ' ') at = i;
      else if (head[i - 1] === '|' || head[i - 1] === ',') at = i;
    }
    // A break that would leave the line a third empty (a long path next) cuts the word instead: the
    // line keeps as much as a cut line did.
    if (at < Math.ceil((2 * w) / 3)) at = w;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).replace(/^ +/, '');
  }
  lines.push(rest.length > w ? fit(rest, w) : rest);
  return lines;
}
