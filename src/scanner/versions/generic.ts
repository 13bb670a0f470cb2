// Fallback order for ecosystems without a dedicated scheme: split into digit and non-digit runs,
// compare digit runs numerically and the rest by code units. A digit run sorts after a text run at the
// same position, so `1.0` > `1.0-beta`-style suffixes are not guaranteed; exactness is only promised
// for the ecosystems with their own module.
import { compareDigits, compareStrings } from './util.js';

const RUN = /\d+|[^\d]+/g;

export function compareGeneric(a: string, b: string): number {
  if (a === b) return 0;
  const xs = a.match(RUN) ?? [];
  const ys = b.match(RUN) ?? [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    const xd = isDigits(x);
    const yd = isDigits(y);
    let c: number;
    if (xd && yd) c = compareDigits(x, y);
    else if (xd !== yd) c = xd ? 1 : -1;
    else c = compareStrings(x, y);
    if (c !== 0) return c;
  }
  if (xs.length !== ys.length) return xs.length < ys.length ? -1 : 1;
  // Same runs up to numeric equality (e.g. `01` vs `1`): a final code-unit tie-breaker keeps the order total.
  return compareStrings(a, b);
}

function isDigits(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 48 && c <= 57;
}
