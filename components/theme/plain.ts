// Plain terminals (issue 13, item 11): the last word on every byte the workstation writes. With
// ASCII glyphs (--ascii or a non-UTF-8 locale) each non-ASCII character becomes one ASCII character
// of the same width, so Ink's layout holds; with no colour (NO_COLOR or --no-color) the colour
// parameters of every SGR sequence are dropped while bold, inverse and resets stay. Views already
// choose ASCII glyphs and pass no colours from the theme; this catches data and library output.
import chalk from 'chalk';
import { createSupportsColor } from 'supports-color';

const ASCII: Record<string, string> = {
  '→': '>', '←': '<', '↑': '^', '↓': 'v', '…': '.', '●': '*', '•': '*', '·': '.', '×': 'x',
  '—': '-', '–': '-', '─': '-', '│': '|', '┃': '|', '█': '#', '▇': '#', '▆': '^', '▅': '=', '▄': '=',
  '▃': '-', '▂': '.', '▁': '_', '✓': '+', '✗': 'x', '‘': "'", '’': "'", '“': '"', '”': '"', '≥': '>', '≤': '<',
};

/** Every code point outside ASCII replaced by one ASCII stand-in ('?' when none is known). */
export function asciiOnly(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? s.replace(/[^\x00-\x7f]/gu, (ch) => ASCII[ch] ?? '?') : s;
}

/** Is an SGR parameter list (split on ';') starting at i a colour? Returns how many params it spans, 0 if not. */
function colourSpan(params: string[], i: number): number {
  const n = Number(params[i]);
  if ((n === 38 || n === 48 || n === 58) && params[i + 1] === '5') return 3;
  if ((n === 38 || n === 48 || n === 58) && params[i + 1] === '2') return 5;
  if ((n >= 30 && n <= 39) || (n >= 40 && n <= 49) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107)) return 1;
  return 0;
}

/** SGR sequences without their colour parameters; a sequence left with none is dropped (ESC[m would reset). */
export function stripColour(s: string): string {
  if (!s.includes('\x1b[')) return s;
  return s.replace(/\x1b\[([0-9;:]*)m/g, (whole, p: string) => {
    if (p === '' || p === '0') return whole;
    const params = p.split(/[;:]/);
    const kept: string[] = [];
    for (let i = 0; i < params.length; ) {
      const span = colourSpan(params, i);
      if (span) i += span;
      else kept.push(params[i++]);
    }
    return kept.length ? `\x1b[${kept.join(';')}m` : '';
  });
}

/** The transform for a theme's choices, or null when the output goes out as it is. */
export function plainOutput(opts: { color: boolean; ascii: boolean }): ((s: string) => string) | null {
  if (opts.color && !opts.ascii) return null;
  return (s) => {
    let out = s;
    if (!opts.color) out = stripColour(out);
    if (opts.ascii) out = asciiOnly(out);
    return out;
  };
}

/**
 * With no colour, chalk's level (Ink draws bold and inverse through chalk) is what the terminal
 * supports, as for NO_COLOR, which chalk ignores. chalk reads process.argv too: the workstation's own
 * `--no-color` would set its level to 0 and drop bold and inverse with the colours (SPEC §6 keeps
 * them). supports-color (chalk's own detection) without sniffing argv gives the terminal's level;
 * colours then go in plainOutput.
 */
export function keepAttributes(opts: { color: boolean }, stream: NodeJS.WriteStream): void {
  if (opts.color) return;
  const support = createSupportsColor(stream, { sniffFlags: false });
  chalk.level = support ? support.level : 0;
}
