// CRAN and Hackage: versions that are plain lists of numbers, compared element by element, a list
// that is a proper prefix of the other sorting first (`1.0 < 1.0.0`, as R's package_version and
// Haskell's Data.Version do). CRAN separates with `.` or `-` (`0.1-2`), Hackage (PVP) with `.` only.
// Strings that are not such lists fall back to the generic order.
import { compareGeneric } from './generic.js';
import { compareDigits } from './util.js';

function compareLists(xs: string[], ys: string[]): number {
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(xs[i], ys[i]);
    if (c !== 0) return c;
  }
  return xs.length === ys.length ? 0 : xs.length < ys.length ? -1 : 1;
}

function listComparator(pattern: RegExp, sep: RegExp): (a: string, b: string) => number {
  return (a, b) => {
    if (a === b) return 0;
    const x = pattern.test(a.trim()) ? a.trim().split(sep) : null;
    const y = pattern.test(b.trim()) ? b.trim().split(sep) : null;
    if (x && y) return compareLists(x, y);
    return x || y ? (x ? 1 : -1) : compareGeneric(a, b);
  };
}

/** R package versions (CRAN, and Bioconductor's R packages). */
export const compareCran = listComparator(/^\d+(?:[.-]\d+)*$/, /[.-]/);
/** Haskell package versions (Hackage, PVP). */
export const compareHackage = listComparator(/^\d+(?:\.\d+)*$/, /\./);
