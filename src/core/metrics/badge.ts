// The Replay Fidelity badge: shields.io endpoint JSON and a self-contained flat SVG.
import type { GateState } from '../gate/index.js';
import { percentText } from '../fidelity/index.js';

export interface ShieldsEndpoint {
  schemaVersion: 1;
  label: 'Replay Fidelity';
  message: string;
  color: string;
}

const COLORS: Record<GateState | 'none', string> = { green: 'brightgreen', warn: 'yellow', fail: 'red', none: 'lightgrey' };
const HEX: Record<string, string> = { brightgreen: '#4c1', yellow: '#dfb317', red: '#e05d44', lightgrey: '#9f9f9f' };

/** Colour follows the gate, so the badge never looks greener than the gate that blocks the release. */
export function badgeJson(bf: number | null, state: GateState): ShieldsEndpoint {
  return { schemaVersion: 1, label: 'Replay Fidelity', message: bf === null ? 'no data' : percentText(bf), color: COLORS[bf === null ? 'none' : state] };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// Verdana 11px averages ~6.5px a character: close enough for a badge that never wraps.
const textWidth = (s: string) => Math.round(s.length * 6.5) + 10;

export function badgeSvg(b: ShieldsEndpoint): string {
  const lw = textWidth(b.label);
  const mw = textWidth(b.message);
  const w = lw + mw;
  const title = `${b.label}: ${b.message}`;
  const fill = HEX[b.color] ?? '#9f9f9f';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${esc(title)}">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${lw}" height="20" fill="#555"/>`,
    `<rect x="${lw}" width="${mw}" height="20" fill="${fill}"/>`,
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`,
    `<text x="${lw / 2}" y="14">${esc(b.label)}</text>`,
    `<text x="${lw + mw / 2}" y="14">${esc(b.message)}</text>`,
    `</g>`,
    `</svg>`,
    '',
  ].join('\n');
}
