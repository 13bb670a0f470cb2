// The one JSON reader for everything Stella reads (manifests, records, SBOMs, OSV, lockfiles, bundle
// manifests). Untrusted bytes, so it must hold for any input:
// - linear time: UTF-8 is validated natively and an invalid byte is located in one pass; the syntax
//   check below visits each character once;
// - bounded stack: the check is a loop over an explicit stack, and nesting deeper than MAX_JSON_DEPTH
//   is refused (with the file, the JSON path prefix and the depth) before JSON.parse sees the text, so
//   neither this reader nor any recursive consumer of its values can overflow;
// - I-JSON (RFC 7493, which RFC 8785 canonicalizes): a duplicate object key is refused with its JSON
//   path, so bytes that say two things (a signed manifest with a second `project`) never get through.
// Valid text is then built by the native JSON.parse, which is the fast part.
// Why hand-written: no maintained npm parser gives all of duplicate-key rejection, a depth limit and an
// iterative (non-recursive) scanner with JSON-path error locations; this is ~150 lines with a fuzz suite.
import { StellaError, jsonPath } from '../errors.js';

/** Deepest array/object nesting any input may have. Real SBOMs and OSV records stay under 20. */
export const MAX_JSON_DEPTH = 1000;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  // TextDecoder validates and decodes natively in one pass (as fast as isUtf8 + toString, measured on
  // Node 20) and strips a leading BOM; the core stays free of node:buffer.
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    throw new StellaError('UTF8_INVALID', `invalid UTF-8 at byte ${offset}`, { file, path: '$' });
  }
}

export interface ParseOptions {
  /** Nesting limit (default MAX_JSON_DEPTH). */
  maxDepth?: number;
}

export function parseJsonText(text: string, file?: string, opts: ParseOptions = {}): unknown {
  const value = quickParse(text, opts.maxDepth ?? MAX_JSON_DEPTH);
  return value !== NOT_QUICK ? value : parseJsonChecked(text, file, opts);
}

/**
 * The full reader: the syntax pass above, then JSON.parse. It says exactly what is wrong and where;
 * parseJsonText answers the same for every input (test/json/quick.test.ts holds the two together).
 */
export function parseJsonChecked(text: string, file?: string, opts: ParseOptions = {}): unknown {
  const fail = checkJson(text, opts.maxDepth ?? MAX_JSON_DEPTH);
  if (fail === null) return JSON.parse(text);
  if (fail.kind === 'depth') {
    throw new StellaError('JSON_INVALID', `JSON nests deeper than ${opts.maxDepth ?? MAX_JSON_DEPTH} levels (depth ${fail.depth} reached); refusing it`, {
      file,
      path: fail.path,
    });
  }
  if (fail.kind === 'duplicate') {
    throw new StellaError('JSON_INVALID', `duplicate key ${JSON.stringify(fail.key)} (I-JSON, RFC 7493, forbids duplicate names: the document would say two things)`, {
      file,
      path: fail.path,
    });
  }
  const { line, col } = lineCol(text, fail.pos);
  const what = fail.pos >= text.length ? 'truncated JSON (unexpected end of input)' : `malformed JSON: ${fail.message}`;
  throw new StellaError('JSON_INVALID', `${what} at line ${line} column ${col}`, { file, path: pathAtOffset(text, fail.pos) });
}

export function parseJsonBytes(bytes: Uint8Array, file?: string, opts: ParseOptions = {}): unknown {
  return parseJsonText(decodeUtf8(bytes, file), file, opts);
}

const NOT_QUICK: unique symbol = Symbol('not quick');

/**
 * The fast path of parseJsonText: the native JSON.parse first (its grammar is RFC 8259's, the same
 * as checkJson's), then the two things it hides, checked on its value and a cheap scan of the text:
 * - nesting: the deepest container of the value, walked with an explicit stack (V8's JSON.parse does
 *   not recurse, so a deep document parses and is refused here);
 * - duplicate names: JSON.parse keeps the last of them, so an object with a duplicate has fewer own
 *   keys than the text has members. Every member is a string followed by ':' outside any string;
 *   counting those and comparing with the own keys of all the value's objects finds any duplicate.
 * Anything off (JSON.parse throws, too deep, a count that differs) returns NOT_QUICK and the full
 * reader decides, with its exact message; so this path only ever answers what the full reader would.
 */
function quickParse(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_QUICK;
  }
  if (value === null || typeof value !== 'object') return value;
  const keys = ownKeysWithin(value, maxDepth);
  return keys >= 0 && keys === membersOf(text) ? value : NOT_QUICK;
}

/** Own keys of every object in a parsed value, or -1 when a container nests deeper than maxDepth. */
function ownKeysWithin(root: object, maxDepth: number): number {
  const stack: unknown[] = [root];
  const depths: number[] = [1];
  let keys = 0;
  while (stack.length > 0) {
    const v = stack.pop() as object;
    const d = depths.pop()!;
    if (d > maxDepth) return -1;
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) {
        const e: unknown = v[k];
        if (e !== null && typeof e === 'object') {
          stack.push(e);
          depths.push(d + 1);
        }
      }
    } else {
      const own = Object.keys(v);
      keys += own.length;
      for (let k = 0; k < own.length; k++) {
        const e: unknown = (v as Record<string, unknown>)[own[k]!];
        if (e !== null && typeof e === 'object') {
          stack.push(e);
          depths.push(d + 1);
        }
      }
    }
  }
  return keys;
}

/** Object members in a text JSON.parse accepted: the strings followed (after whitespace) by ':'. */
function membersOf(text: string): number {
  let n = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    // The closing quote: the next one not escaped (preceded by an even run of backslashes).
    let e = text.indexOf('"', i + 1);
    for (;;) {
      let b = e - 1;
      while (text.charCodeAt(b) === 92) b--;
      if ((e - 1 - b) % 2 === 0) break;
      e = text.indexOf('"', e + 1);
    }
    let j = e + 1;
    let c = text.charCodeAt(j);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++j);
    if (c === 58) n++;
    i = text.indexOf('"', j);
  }
  return n;
}

type Failure =
  | { kind: 'syntax'; pos: number; message: string }
  | { kind: 'depth'; depth: number; path: string }
  | { kind: 'duplicate'; key: string; path: string };

/** Offset and reason of the first syntax error in text (kept for callers that only want the position). */
export function locateSyntaxError(text: string): { pos: number; message: string } {
  const f = checkJson(text, Number.MAX_SAFE_INTEGER);
  return f?.kind === 'syntax' ? { pos: f.pos, message: f.message } : { pos: text.length, message: 'unexpected end of input' };
}

interface Frame {
  obj: boolean;
  /** Current key (objects) — for paths. */
  key: string | null;
  index: number;
  /** Keys seen so far: a short array (most objects have a handful), a Set past SMALL_OBJECT. */
  list: string[] | null;
  keys: Set<string> | null;
}

const PATH_PREFIX_SEGMENTS = 8;
const SMALL_OBJECT = 16;

function framesPath(stack: Frame[], limit = Infinity): string {
  const segs: Array<string | number> = [];
  for (const f of stack) {
    if (segs.length >= limit) break;
    if (!f.obj) segs.push(f.index);
    else if (f.key !== null) segs.push(f.key);
  }
  const p = jsonPath(segs);
  return stack.length > limit ? `${p}…` : p;
}

const STRING_BODY_RE = /[^"\\\x00-\x1f]*/y;
const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * One pass, no recursion: syntax, nesting depth, duplicate keys. Returns null for a valid document.
 */
function checkJson(text: string, maxDepth: number): Failure | null {
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];
  const syntax = (message: string): Failure => ({ kind: 'syntax', pos: i, message: i >= n ? 'unexpected end of input' : message });
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  };
  const found = () => (i >= n ? 'end of input' : JSON.stringify(text[i]));
  // Reads a string at i (at the opening quote); returns null on success, a failure otherwise.
  let strHadEscape = false;
  const str = (): Failure | null => {
    i++;
    strHadEscape = false;
    for (;;) {
      STRING_BODY_RE.lastIndex = i;
      STRING_BODY_RE.exec(text);
      i = STRING_BODY_RE.lastIndex;
      if (i >= n) return syntax('');
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return null;
      }
      if (c === 92) {
        strHadEscape = true;
        i++;
        if (i >= n) return syntax('');
        const e = text[i]!;
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            const h = text.charCodeAt(i + k);
            if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) {
              if (i + k >= n) {
                i = n;
                return syntax('');
              }
              return syntax('bad \\u escape');
            }
          }
          i += 5;
        } else if ('"\\/bfnrt'.includes(e)) i++;
        else return syntax(`bad escape \\${e}`);
        continue;
      }
      return syntax('control character in string');
    }
  };
  // State machine: after a value, close containers / move to the next element.
  ws();
  for (;;) {
    // --- expect a value at i
    ws();
    if (i >= n) return syntax('');
    const c = text.charCodeAt(i);
    let scalar = true;
    if (c === 123 || c === 91) {
      const obj = c === 123;
      if (stack.length >= maxDepth) return { kind: 'depth', depth: stack.length + 1, path: framesPath(stack, PATH_PREFIX_SEGMENTS) };
      i++;
      ws();
      if (text.charCodeAt(i) === (obj ? 125 : 93)) {
        i++;
      } else {
        const f: Frame = { obj, key: null, index: 0, list: null, keys: null };
        stack.push(f);
        if (obj) {
          const bad = objectKey(f);
          if (bad) return bad;
        }
        scalar = false;
      }
    } else if (c === 34) {
      const bad = str();
      if (bad) return bad;
    } else if (c === 116 /* t */ && text.startsWith('true', i)) i += 4;
    else if (c === 102 /* f */ && text.startsWith('false', i)) i += 5;
    else if (c === 110 /* n */ && text.startsWith('null', i)) i += 4;
    else {
      NUMBER_RE.lastIndex = i;
      if (!NUMBER_RE.exec(text)) {
        if ('tfn'.includes(text[i]!) && ('true'.startsWith(text.slice(i, n)) || 'false'.startsWith(text.slice(i, n)) || 'null'.startsWith(text.slice(i, n)))) {
          i = n;
          return syntax('');
        }
        return syntax(`unexpected ${found()}`);
      }
      i = NUMBER_RE.lastIndex;
      // A number running into the end of input may be cut off ("1." / "1e"): name it truncated.
      if (i < n && (text[i] === '.' || text[i] === 'e' || text[i] === 'E') && i + 1 >= n) {
        i = n;
        return syntax('');
      }
    }
    if (!scalar) continue;
    // --- after a value: close or continue containers
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (!top) {
        if (i < n) return syntax(`unexpected ${found()} after the JSON value`);
        return null;
      }
      const d = text.charCodeAt(i);
      if (d === 44 /* , */) {
        i++;
        if (top.obj) {
          ws();
          const bad = objectKey(top);
          if (bad) return bad;
        } else top.index++;
        break;
      }
      if (d === (top.obj ? 125 : 93)) {
        i++;
        stack.pop();
        continue;
      }
      return syntax(top.obj ? `expected ',' or '}' after property value, found ${found()}` : `expected ',' or ']' after array element, found ${found()}`);
    }
  }

  // Reads `"key" :` at i into frame f, checking for duplicates.
  function objectKey(f: Frame): Failure | null {
    ws();
    if (text.charCodeAt(i) !== 34) return syntax(`expected a property name, found ${found()}`);
    const start = i;
    const bad = str();
    if (bad) return bad;
    const key = strHadEscape ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
    let dup = false;
    if (f.keys !== null) {
      dup = f.keys.has(key);
      f.keys.add(key);
    } else if (f.list === null) f.list = [key];
    else {
      const list = f.list;
      for (let k = 0; k < list.length; k++) {
        if (list[k] === key) {
          dup = true;
          break;
        }
      }
      list.push(key);
      if (list.length > SMALL_OBJECT) {
        f.keys = new Set(list);
        f.list = null;
      }
    }
    if (dup) {
      f.key = key;
      return { kind: 'duplicate', key, path: framesPath(stack) };
    }
    f.key = key;
    ws();
    if (text.charCodeAt(i) !== 58) return syntax(`expected ':' after property name, found ${found()}`);
    i++;
    return null;
  }
}

function lineCol(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: pos - last };
}

/**
 * Offset of the first byte that cannot be part of valid UTF-8 (one pass, RFC 3629 table): the start of
 * a bad sequence, or of a sequence the input ends in the middle of.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  // A leading BOM is allowed (TextDecoder strips it).
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}
/**
 * The JSON path of the value being read at `offset`: a small tokenizer over the prefix that tracks
 * object keys and array indices. Used only on the error path.
 */
export function pathAtOffset(text: string, offset: number): string {
  type Frame = { kind: 'obj'; key: string | null; expectKey: boolean } | { kind: 'arr'; index: number };
  const stack: Frame[] = [];
  let i = 0;
  const end = Math.min(offset, text.length);
  while (i < end) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      // A string cut off by the error is not a key yet: the path stays at its parent.
      if (j >= end) break;
      const top = stack[stack.length - 1];
      if (top?.kind === 'obj' && top.expectKey) {
        try {
          top.key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          top.key = text.slice(i + 1, j);
        }
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') stack.push({ kind: 'obj', key: null, expectKey: true });
    else if (c === '[') stack.push({ kind: 'arr', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'arr') top.index++;
      else if (top?.kind === 'obj') {
        top.expectKey = true;
        top.key = null;
      }
    }
    i++;
  }
  const segs: Array<string | number> = [];
  for (const f of stack) {
    if (f.kind === 'arr') segs.push(f.index);
    else if (f.key !== null) segs.push(f.key);
  }
  return jsonPath(segs);
}
