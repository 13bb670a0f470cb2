// RFC 8785 (JCS) serialization: the one path every hash in Stella goes through.
//
// Why not call `canonical-json` directly: canonical-json 0.4 copies each object into a fresh `{}` with
// sorted keys and then calls JSON.stringify. A JS object enumerates integer-like keys ("9", "10") first,
// in numeric order, so {"10":…,"9":…} comes out as {"9":…,"10":…} — not the code-unit order RFC 8785
// requires (the upstream vectors structures.json and weird.json fail) — and a JSON key "__proto__" is
// silently dropped by the assignment. It also turns undefined/NaN/±Infinity into null or omits them and
// serializes a Date or Map via toJSON or as {}.
//
// So: one validating pass copies the value with keys inserted in code-unit order, rejecting every value
// I-JSON cannot carry; then native JSON.stringify writes it (its string escaping and number form ARE the
// JCS ones since ES2019, and lone surrogates were rejected). Only when some key starts with a digit —
// where insertion order is not enumeration order — a JS writer that sorts keys itself takes over.
// Tested byte for byte on the RFC 8785 vectors and cross-checked against canonical-json on real SBOMs.
import { createHash } from 'node:crypto';
import { StellaError, jsonPath } from '../errors.js';
import type { Digest } from '../formats.js';

/** UTF-16 code-unit order (RFC 8785 §3.2.3). Never localeCompare: that depends on the machine's locale. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Above this nesting depth the writer starts checking for cycles (a parsed document cannot have one;
// a hand-built value can). Checking only deep values keeps the common path free of Set bookkeeping.
const CYCLE_CHECK_DEPTH = 128;
const MAX_DEPTH = 10_000;

/** Thrown inside the fast passes; the slow pass then finds the path and reason. */
export class Unserializable extends Error {}

const objectProto = Object.prototype;

// String.prototype.isWellFormed is in Node 20 (V8 11.3) but not in the ES2023 lib this project targets.
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;
/** False when the string holds a lone surrogate: it has no UTF-8 form, so I-JSON (and JCS) forbid it. */
export function wellFormed(s: string): boolean {
  return isWellFormed.call(s);
}

/** A plain JSON object: prototype Object.prototype or null (not a Date, Map, class instance, …). */
export function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === objectProto || proto === null;
}

/**
 * Keys that start with a digit may be array-index keys, which JS enumerates before all others; a value
 * holding one cannot go through native JSON.stringify. (Conservative: "1a" would be safe, but is rare.)
 */
export function mayBeIndexKey(k: string): boolean {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Set a key as an own data property, even "__proto__" (plain assignment would change the prototype). */
export function setOwn(o: Record<string, unknown>, k: string, value: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
  else o[k] = value;
}

/**
 * True for a string, number or boolean JSON can carry, false for an object (or null); throws
 * Unserializable on a lone surrogate, NaN or ±Infinity, and on undefined, bigint, function or symbol:
 * after a false, the value is an object or null.
 */
export function isScalar(v: unknown): v is string | number | boolean {
  switch (typeof v) {
    case 'string':
      if (!wellFormed(v)) throw new Unserializable();
      return true;
    case 'number':
      if (!Number.isFinite(v)) throw new Unserializable();
      return true;
    case 'boolean':
      return true;
    case 'object':
      return false;
    default:
      throw new Unserializable();
  }
}

/** How a prepared value may be written: native JSON.stringify, or the key-sorting JS writer. */
export interface PrepareState {
  native: boolean;
}

/**
 * Validating deep copy with every object's keys inserted in code-unit order. Throws Unserializable on
 * any value JSON cannot carry; clears `state.native` when a key may be an array index.
 */
function sortedCopy(value: unknown, depth: number, ancestors: unknown[], state: PrepareState): unknown {
  if (isScalar(value)) return value;
  const v = value as object | null; // isScalar threw on anything else
  if (v === null) return null;
  if (depth > MAX_DEPTH) throw new Unserializable();
  if (depth > CYCLE_CHECK_DEPTH) {
    if (ancestors.includes(v)) throw new Unserializable();
    ancestors.push(v);
  }
  let out: unknown;
  if (Array.isArray(v)) {
    const n = v.length;
    // push, not new Array(n): a packed array keeps JSON.stringify on its fast path.
    const arr: unknown[] = [];
    for (let i = 0; i < n; i++) {
      if (!(i in v)) throw new Unserializable();
      arr.push(sortedCopy(v[i], depth + 1, ancestors, state));
    }
    out = arr;
  } else {
    if (!isPlainObject(v) || Object.getOwnPropertySymbols(v).length > 0) throw new Unserializable();
    // Default sort compares strings by UTF-16 code units — exactly RFC 8785 §3.2.3.
    const keys = Object.keys(v).sort();
    const src = v as Record<string, unknown>;
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (!wellFormed(k)) throw new Unserializable();
      if (mayBeIndexKey(k)) state.native = false;
      setOwn(obj, k, sortedCopy(src[k], depth + 1, ancestors, state));
    }
    out = obj;
  }
  if (depth > CYCLE_CHECK_DEPTH) ancestors.pop();
  return out;
}

/** The key-sorting JS writer, for values whose keys JS would not enumerate in insertion order. */
function writeValue(v: unknown, depth: number, ancestors: unknown[]): string {
  switch (typeof v) {
    case 'string':
      if (!wellFormed(v)) throw new Unserializable();
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Unserializable();
      // ES Number.prototype.toString is exactly the JCS number form; -0 serializes as 0.
      return v === 0 ? '0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth > MAX_DEPTH) throw new Unserializable();
      if (depth > CYCLE_CHECK_DEPTH) {
        if (ancestors.includes(v)) throw new Unserializable();
        ancestors.push(v);
      }
      let out: string;
      if (Array.isArray(v)) {
        const n = v.length;
        if (n === 0) out = '[]';
        else {
          out = '[';
          for (let i = 0; i < n; i++) {
            if (!(i in v)) throw new Unserializable();
            if (i > 0) out += ',';
            out += writeValue(v[i], depth + 1, ancestors);
          }
          out += ']';
        }
      } else {
        const proto = Object.getPrototypeOf(v);
        if (proto !== objectProto && proto !== null) throw new Unserializable();
        // Default sort compares strings by UTF-16 code units — exactly RFC 8785 §3.2.3.
        const keys = Object.keys(v).sort();
        const o = v as Record<string, unknown>;
        out = '{';
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          if (!wellFormed(k)) throw new Unserializable();
          if (i > 0) out += ',';
          out += JSON.stringify(k);
          out += ':';
          out += writeValue(o[k], depth + 1, ancestors);
        }
        out += '}';
        if (Object.getOwnPropertySymbols(v).length > 0) throw new Unserializable();
      }
      if (depth > CYCLE_CHECK_DEPTH) ancestors.pop();
      return out;
    }
    default:
      // undefined, bigint, function, symbol
      throw new Unserializable();
  }
}

/** Slow pass, only on the error path: the JSON path and reason of the first value JCS cannot carry. */
function findUnserializable(
  v: unknown,
  segs: Array<string | number>,
  ancestors: Set<unknown>,
): { path: string; reason: string } | null {
  const at = (reason: string) => ({ path: jsonPath(segs), reason });
  switch (typeof v) {
    case 'string':
      return wellFormed(v) ? null : at('string contains a lone UTF-16 surrogate');
    case 'number':
      return Number.isFinite(v) ? null : at(`${v} is not a JSON number`);
    case 'boolean':
      return null;
    case 'undefined':
      return at('undefined is not a JSON value');
    case 'bigint':
      return at('bigint is not a JSON value (use a string or a safe number)');
    case 'function':
      return at('a function is not a JSON value');
    case 'symbol':
      return at('a symbol is not a JSON value');
    case 'object': {
      if (v === null) return null;
      if (ancestors.has(v)) return at('circular reference');
      if (segs.length > MAX_DEPTH) return at(`nested deeper than ${MAX_DEPTH} levels`);
      ancestors.add(v);
      try {
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            if (!(i in v)) return { path: jsonPath([...segs, i]), reason: 'sparse array hole is not a JSON value' };
            const r = findUnserializable(v[i], [...segs, i], ancestors);
            if (r) return r;
          }
          return null;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto !== objectProto && proto !== null) {
          const name = (v as object).constructor?.name ?? 'object';
          return at(`${name} is not a plain JSON object`);
        }
        if (Object.getOwnPropertySymbols(v).length > 0) return at('object has symbol-keyed properties');
        for (const k of Object.keys(v).sort()) {
          if (!wellFormed(k)) return at(`key ${JSON.stringify(k)} contains a lone UTF-16 surrogate`);
          const r = findUnserializable((v as Record<string, unknown>)[k], [...segs, k], ancestors);
          if (r) return r;
        }
        return null;
      } finally {
        ancestors.delete(v);
      }
    }
    default:
      return at(`${typeof v} is not a JSON value`);
  }
}

/**
 * The SCHEMA_INVALID error for the first value in `value` that JSON cannot carry, or null when every
 * value is fine. A full slow walk: for error paths only.
 */
export function unserializableError(value: unknown): StellaError | null {
  let bad: { path: string; reason: string } | null;
  try {
    bad = findUnserializable(value, [], new Set());
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    bad = { path: '$', reason: 'value nested too deeply to serialize' };
  }
  return bad && new StellaError('SCHEMA_INVALID', `cannot canonicalize: ${bad.reason}`, { path: bad.path });
}

/**
 * Write a value that already went through a validating, key-sorting pass (sortedCopy or the artifact
 * normalizer). `state.native` says whether every object's insertion order is its enumeration order.
 */
export function writePrepared(prepared: unknown, state: PrepareState): string {
  return state.native ? JSON.stringify(prepared) : writeValue(prepared, 0, []);
}

/** The canonical text (RFC 8785) of a JSON value; throws SCHEMA_INVALID naming the path of a bad value. */
export function canonicalString(value: unknown): string {
  const state: PrepareState = { native: true };
  try {
    return writePrepared(sortedCopy(value, 0, [], state), state);
  } catch (e) {
    if (!(e instanceof Unserializable) && !(e instanceof RangeError)) throw e;
    throw unserializableError(value) ?? new StellaError('SCHEMA_INVALID', 'cannot canonicalize: value nested too deeply to serialize', { path: '$' });
  }
}

/** RFC 8785 canonical bytes (UTF-8). */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalString(value), 'utf8');
}

/** `sha256:` + 64 lowercase hex of the bytes. */
export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The canonical hash: SHA-256 of the canonical bytes. */
export function canonicalDigest(value: unknown): Digest {
  // Hashing the string as UTF-8 is byte-identical to hashing canonicalBytes, without the extra copy.
  return sha256Digest(canonicalString(value));
}
