// Leaf-level structural diff of two JSON values, used for manifests, policies and for reading the
// nature of an artifact difference (nondeterminism sub-tags). Arrays compare position by position;
// a same-length array whose items are a permutation is reported once as a permutation, not per item.
import { canonicalString, compareCodeUnits } from '../canonical/index.js';
import { jsonPath } from '../errors.js';
import { isObject as isObj } from '../guards.js';

export type LeafDiff =
  | { kind: 'value'; path: string; segments: Array<string | number>; before: unknown; after: unknown }
  | { kind: 'permutation'; path: string; segments: Array<string | number> };


/** Up to `limit` differences between `a` and `b`, in document order (keys in code-unit order). */
export function diffLeaves(a: unknown, b: unknown, limit = Number.POSITIVE_INFINITY): LeafDiff[] {
  const out: LeafDiff[] = [];
  const segs: Array<string | number> = [];
  const permutation = () => out.push({ kind: 'permutation', path: jsonPath(segs), segments: [...segs] });
  const value = (before: unknown, after: unknown) => out.push({ kind: 'value', path: jsonPath(segs), segments: [...segs], before, after });
  const walk = (x: unknown, y: unknown): void => {
    if (out.length >= limit) return;
    if (x === y) return;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length === y.length && x.length > 1 && isPermutation(x, y)) {
        if (!x.every((v, i) => canonicalString(v) === canonicalString(y[i]))) permutation();
        return;
      }
      if (x.length !== y.length) {
        value(x, y);
        return;
      }
      for (let i = 0; i < x.length; i++) {
        segs.push(i);
        walk(x[i], y[i]);
        segs.pop();
      }
      return;
    }
    if (isObj(x) && isObj(y)) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compareCodeUnits);
      for (const k of keys) {
        segs.push(k);
        if (!(k in x) || !(k in y)) value(x[k] ?? null, y[k] ?? null);
        else walk(x[k], y[k]);
        segs.pop();
      }
      return;
    }
    if (canonicalString(x ?? null) !== canonicalString(y ?? null)) value(x ?? null, y ?? null);
  };
  walk(a, b);
  return out;
}

function isPermutation(x: unknown[], y: unknown[]): boolean {
  const sx = x.map((v) => canonicalString(v)).sort(compareCodeUnits);
  const sy = y.map((v) => canonicalString(v)).sort(compareCodeUnits);
  return sx.every((v, i) => v === sy[i]);
}
