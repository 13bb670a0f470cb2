// Canonical bytes straight from JSON bytes: one pass over the input that writes RFC 8785 bytes for
// every subtree no schema rule touches and applies the rules (volatile fields removed, set-like arrays
// sorted) only where they apply — no JSON.parse → objects → JSON.stringify round trip of the document.
//
// Why hand-written: no npm JSON library emits JCS bytes from bytes with per-path rules (the parsers
// build objects; canonical-json and friends serialize objects). The rules themselves stay the single
// table in rules.ts, and normalize.ts (parse → normalize → stringify) stays the oracle: a property test
// checks both byte for byte on real SBOMs, permuted and salted with random values.
//
// What makes it fast: a validated-UTF-8 string without escapes is already its own canonical form
// (JCS escapes only `"`, `\` and controls, which raw input cannot hold), so it is copied byte by byte;
// short integers likewise. Objects are written in input order and re-ordered in place only when their
// keys were not already in code-unit order. Keys are compared as bytes (UTF-8 byte order is code-point
// order, which is UTF-16 order except between U+E000–U+FFFF and astral characters — those fall back to
// string comparison) and turned into strings only when a rule could name them.
//
// Anything unusual — invalid UTF-8, a BOM, a syntax error, a duplicate key, a lone surrogate, a number
// JSON cannot carry, nesting past the parser's limit — makes it give up (return null): the caller then
// takes the parse → normalize path, which produces the same bytes or the one-line error with file and
// JSON path.
import { firstInvalidUtf8 } from '../json/parse.js';
import type { ArtifactSchema } from '../formats.js';
import { wellFormed } from './jcs.js';
import { RULES, type SchemaRules } from './rules.js';

export type FastSchema = ArtifactSchema | 'none';

/** Same limit as the strict parser (src/core/json/parse.ts): deeper documents take the slow path. */
const MAX_DEPTH = 1000;

/** Thrown to abandon the fast pass; never escapes this module. */
class GiveUp {}
const GIVE_UP = new GiveUp();

type Trie = { [key: string]: Trie | true };

interface FastRules {
  volatileRoot: Trie;
  volatileKeys: ReadonlySet<string>;
  /** Set key → sort fields, each a list of path segments ([] = the item itself, rule ".") */
  sets: ReadonlyMap<string, string[][]>;
  /** (length << 8 | first byte) of every key a rule names: other keys never become strings. */
  named: Uint8Array;
  names: readonly string[];
}

function compileFast(rules: SchemaRules): FastRules {
  const volatileRoot = Object.create(null) as Trie;
  const names = new Set<string>([...rules.volatileKeys, ...Object.keys(rules.sets)]);
  for (const p of rules.volatileAt) {
    let node = volatileRoot;
    p.forEach((seg, i) => {
      names.add(seg);
      if (i === p.length - 1) node[seg] = true;
      else {
        const next = node[seg];
        node = next === undefined || next === true ? (node[seg] = Object.create(null) as Trie) : next;
      }
    });
  }
  const named = new Uint8Array(256 * 256);
  for (const k of names) {
    // Rule keys are ASCII; a longer one than the table holds is always decoded.
    if (k.length > 0 && k.length < 256) named[(k.length << 8) | k.charCodeAt(0)] = 1;
  }
  const sets = new Map<string, string[][]>();
  for (const [key, fields] of Object.entries(rules.sets)) sets.set(key, fields.map((f) => (f === '.' ? [] : f.split('.'))));
  return { volatileRoot, volatileKeys: new Set(rules.volatileKeys), sets, named, names: [...names] };
}

const FAST_RULES = new Map<FastSchema, FastRules>([
  ...(Object.keys(RULES) as ArtifactSchema[]).map((s): [FastSchema, FastRules] => [s, compileFast(RULES[s])]),
  ['none', compileFast({ volatileAt: [], volatileKeys: [], sets: {} })],
]);

/** Members of the object last finished at one depth, in output order, with output offsets. */
class Frame {
  n = 0;
  /** Key content (between the quotes) in the input. */
  kS: number[] = [];
  kE: number[] = [];
  esc: boolean[] = [];
  kStr: Array<string | undefined> = [];
  removed: boolean[] = [];
  /** Member start (key's opening quote), value start, member end, in the output. */
  mS: number[] = [];
  vS: number[] = [];
  mE: number[] = [];
  order: number[] = [];
}


class Writer {
  readonly inp: Buffer;
  readonly n: number;
  p = 0;
  out: Buffer;
  o = 0;
  tmp: Buffer = Buffer.allocUnsafe(0);
  readonly frames: Frame[] = [];
  readonly setFrames: SetFrame[] = [];
  readonly rules: FastRules;

  /** Text of the last escaped string written (a key's value as a JS string). */
  lastString = '';

  constructor(inp: Buffer, rules: FastRules, writes = true) {
    // The output is written over a private copy of the input, behind the read position: canonical
    // bytes never outrun the bytes they come from (whitespace goes, escapes shrink), so unread input
    // stays intact and most strings need no copy at all until the first byte is dropped — then one
    // native memmove each. The only growth, a rewritten number (`1e3` → `1000`) that would overtake
    // the read position, gives up to the slow path.
    this.inp = writes ? Buffer.from(inp) : inp;
    this.out = writes ? this.inp : Buffer.allocUnsafe(0);
    this.n = inp.length;
    this.rules = rules;
  }

  /**
   * A copy of out[start, start+len) to permute from: the consumed input between the write and read
   * positions when it is big enough (same buffer, so native memmoves), else a separate buffer.
   */
  scratch(start: number, len: number): [Buffer, number] {
    const out = this.out;
    if (this.p - this.o >= len) {
      out.copyWithin(this.o, start, start + len);
      return [out, this.o];
    }
    if (this.tmp.length < len) this.tmp = Buffer.allocUnsafe(Math.max(len, this.tmp.length * 2, 4096));
    out.copy(this.tmp, 0, start, start + len);
    return [this.tmp, 0];
  }

  frame(depth: number): Frame {
    let f = this.frames[depth];
    if (f === undefined) this.frames[depth] = f = new Frame();
    return f;
  }

  ws(): void {
    const inp = this.inp;
    const n = this.n;
    let p = this.p;
    while (p < n) {
      const c = inp[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
  }

  /** After a member or item: true at a comma (another follows), false at `close`; anything else gives up. */
  more(close: number): boolean {
    this.ws();
    if (this.p >= this.n) throw GIVE_UP;
    const c = this.inp[this.p++];
    if (c === 0x2c) return true;
    if (c === close) return false;
    throw GIVE_UP;
  }

  value(depth: number, trie: Trie | undefined, set: string[][] | undefined): void {
    this.ws();
    if (this.p >= this.n) throw GIVE_UP;
    const c = this.inp[this.p];
    if (c === 0x22) this.string();
    else if (c === 0x7b) this.object(depth, trie);
    else if (c === 0x5b) this.array(depth, set);
    else if (c === 0x74) this.literal(0x74, 0x72, 0x75, 0x65, 4);
    else if (c === 0x66) this.literal5();
    else if (c === 0x6e) this.literal(0x6e, 0x75, 0x6c, 0x6c, 4);
    else this.number();
  }

  literal(a: number, b: number, c: number, d: number, len: number): void {
    const inp = this.inp;
    const p = this.p;
    if (p + len > this.n || inp[p] !== a || inp[p + 1] !== b || inp[p + 2] !== c || inp[p + 3] !== d) throw GIVE_UP;
    const out = this.out;
    const o = this.o;
    out[o] = a;
    out[o + 1] = b;
    out[o + 2] = c;
    out[o + 3] = d;
    this.o = o + 4;
    this.p = p + 4;
  }

  literal5(): void {
    const inp = this.inp;
    const p = this.p;
    if (p + 5 > this.n || inp[p + 1] !== 0x61 || inp[p + 2] !== 0x6c || inp[p + 3] !== 0x73 || inp[p + 4] !== 0x65) throw GIVE_UP;
    const out = this.out;
    const o = this.o;
    out[o] = 0x66;
    out[o + 1] = 0x61;
    out[o + 2] = 0x6c;
    out[o + 3] = 0x73;
    out[o + 4] = 0x65;
    this.o = o + 5;
    this.p = p + 5;
  }

  number(): void {
    const inp = this.inp;
    const n = this.n;
    const start = this.p;
    let p = start;
    if (inp[p] === 0x2d) p++;
    const intStart = p;
    if (p >= n) throw GIVE_UP;
    let c = inp[p];
    if (c === 0x30) p++;
    else if (c >= 0x31 && c <= 0x39) {
      p++;
      while (p < n && (c = inp[p]) >= 0x30 && c <= 0x39) p++;
    } else throw GIVE_UP;
    let simple = p - intStart <= 15 && !(p - intStart === 1 && inp[intStart] === 0x30 && intStart > start);
    if (p < n && inp[p] === 0x2e) {
      simple = false;
      p++;
      const d = p;
      while (p < n && (c = inp[p]) >= 0x30 && c <= 0x39) p++;
      if (p === d) throw GIVE_UP;
    }
    if (p < n && (inp[p] === 0x65 || inp[p] === 0x45)) {
      simple = false;
      p++;
      if (p < n && (inp[p] === 0x2b || inp[p] === 0x2d)) p++;
      const d = p;
      while (p < n && (c = inp[p]) >= 0x30 && c <= 0x39) p++;
      if (p === d) throw GIVE_UP;
    }
    this.p = p;
    if (simple) {
      // An integer of ≤ 15 digits without leading zeros is exact in a double and prints as itself.
      const out = this.out;
      let o = this.o;
      for (let i = start; i < p; i++) out[o++] = inp[i];
      this.o = o;
      return;
    }
    const v = Number(inp.toString('latin1', start, p));
    if (!Number.isFinite(v)) throw GIVE_UP;
    // ES Number.prototype.toString is the JCS number form; -0 prints as 0.
    const text = v === 0 ? '0' : String(v);
    if (this.o + text.length > p) throw GIVE_UP;
    this.o += this.out.write(text, this.o, 'latin1');
  }

  /** A string value or key at this.p (the opening quote); true when it held an escape. */
  string(): boolean {
    const buf = this.inp;
    const n = this.n;
    const start = this.p;
    let p = start + 1;
    for (;;) {
      if (p >= n) throw GIVE_UP;
      const c = buf[p];
      if (c === 0x22) break;
      if (c === 0x5c) {
        this.escapedString();
        return true;
      }
      if (c < 0x20) throw GIVE_UP;
      p++;
    }
    // Unescaped valid UTF-8 is already canonical: move it down to the write position.
    const end = p + 1;
    const o = this.o;
    if (o !== start) {
      if (end - start <= 16) for (let i = start; i < end; i++) buf[o + i - start] = buf[i];
      else buf.copyWithin(o, start, end);
    }
    this.o = o + end - start;
    this.p = end;
    return false;
  }

  /** End (index of the closing quote) of the string whose opening quote is at `start`. */
  stringEnd(start: number): number {
    const inp = this.inp;
    const n = this.n;
    let p = start + 1;
    for (;;) {
      if (p >= n) throw GIVE_UP;
      const c = inp[p];
      if (c === 0x22) return p;
      if (c === 0x5c) p += 2;
      else if (c < 0x20) throw GIVE_UP;
      else p++;
    }
  }

  /** Decode a string with escapes (JSON.parse checks them); refuses lone surrogates. */
  decodeEscaped(start: number, end: number): string {
    let s: unknown;
    try {
      s = JSON.parse(this.inp.toString('utf8', start, end + 1));
    } catch {
      throw GIVE_UP;
    }
    if (typeof s !== 'string' || !wellFormed(s)) throw GIVE_UP;
    return s;
  }

  escapedString(): void {
    const start = this.p;
    const end = this.stringEnd(start);
    const s = this.decodeEscaped(start, end);
    this.lastString = s;
    // JSON.stringify escapes exactly what JCS escapes; the result is never longer than the input form.
    this.o += this.out.write(JSON.stringify(s), this.o, 'utf8');
    this.p = end + 1;
  }

  /** Key m of a frame as a string (escaped and removed keys carry theirs; others are read as UTF-8). */
  keyString(f: Frame, m: number): string {
    let k = f.kStr[m];
    if (k === undefined) {
      k = this.inp.toString('utf8', f.kS[m], f.kE[m]);
      f.kStr[m] = k;
    }
    return k;
  }

  /** Code-unit order of two keys of one frame. */
  compareKeys(f: Frame, a: number, b: number): number {
    if (!f.esc[a] && !f.esc[b]) {
      const inp = this.inp;
      let i = f.kS[a];
      let j = f.kS[b];
      const ie = f.kE[a];
      const je = f.kE[b];
      while (i < ie && j < je) {
        const x = inp[i];
        const y = inp[j];
        if (x !== y) {
          // Lead bytes of U+E000–U+FFFF (0xEE, 0xEF) and of astral characters (0xF0–0xF4) sort the
          // other way in UTF-16: compare those as strings.
          if (x >= 0xee || y >= 0xee) break;
          return x - y;
        }
        i++;
        j++;
      }
      if (i >= ie || j >= je) return ie - i - (je - j);
    }
    const ka = this.keyString(f, a);
    const kb = this.keyString(f, b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }

  object(depth: number, trie: Trie | undefined): void {
    if (depth >= MAX_DEPTH) throw GIVE_UP;
    const inp = this.inp;
    const rules = this.rules;
    const objStart = this.o;
    this.out[this.o++] = 0x7b;
    this.p++;
    this.ws();
    const f = this.frame(depth);
    if (this.p < this.n && inp[this.p] === 0x7d) {
      this.p++;
      this.out[this.o++] = 0x7d;
      f.n = 0;
      return;
    }
    let m = 0;
    let written = 0;
    for (;;) {
      this.ws();
      if (this.p >= this.n || inp[this.p] !== 0x22) throw GIVE_UP;
      const before = this.o;
      if (written > 0) this.out[this.o++] = 0x2c;
      const mS = this.o;
      const hadEscape = this.string();
      // The key's canonical bytes, in the output: without escapes, its UTF-8 content.
      const kS = mS + 1;
      const kE = this.o - 1;
      this.ws();
      if (this.p >= this.n || inp[this.p] !== 0x3a) throw GIVE_UP;
      this.p++;
      this.out[this.o++] = 0x3a;
      // Rules: only keys whose (length, first byte) some rule names become strings.
      let removed = false;
      let childTrie: Trie | undefined;
      let childSet: string[][] | undefined;
      f.kS[m] = kS;
      f.kE[m] = kE;
      f.esc[m] = hadEscape;
      f.kStr[m] = hadEscape ? this.lastString : undefined;
      const len = kE - kS;
      let k: string | undefined;
      if (hadEscape || len >= 256) k = this.keyString(f, m);
      else if (rules.named[(len << 8) | inp[kS]] === 1) {
        for (const name of rules.names) {
          if (this.keyIs(f, m, name)) {
            k = name;
            break;
          }
        }
      }
      if (k !== undefined) {
        if (rules.volatileKeys.has(k)) removed = true;
        if (trie !== undefined) {
          const t = trie[k];
          if (t === true) removed = true;
          else childTrie = t;
        }
        childSet = rules.sets.get(k);
      }
      const vS = this.o;
      this.value(depth + 1, childTrie, childSet);
      if (removed) {
        // Its bytes are overwritten next; it still takes part in the duplicate-key check, by name.
        this.o = before;
        f.esc[m] = true;
        f.kStr[m] = k;
      } else written++;
      f.removed[m] = removed;
      f.mS[m] = mS;
      f.vS[m] = vS;
      f.mE[m] = this.o;
      m++;
      if (!this.more(0x7d)) break;
    }
    // The nested values reused deeper frames only; this frame is still ours.
    f.n = m;
    let sorted = true;
    for (let i = 1; i < m; i++) {
      const c = this.compareKeys(f, i - 1, i);
      if (c === 0) throw GIVE_UP; // duplicate key
      if (c > 0) {
        sorted = false;
        break;
      }
    }
    if (!sorted) this.reorder(f, objStart + 1);
    this.out[this.o++] = 0x7d;
  }

  /** Rewrite the members after `bodyStart` in key order, commas between, dropping removed ones. */
  reorder(f: Frame, bodyStart: number): void {
    const m = f.n;
    const order = f.order;
    order.length = m;
    for (let i = 0; i < m; i++) order[i] = i;
    if (m <= 12) {
      for (let i = 1; i < m; i++) {
        const x = order[i];
        let j = i - 1;
        while (j >= 0 && this.compareKeys(f, order[j], x) > 0) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = x;
      }
    } else order.sort((a, b) => this.compareKeys(f, a, b));
    for (let i = 1; i < m; i++) if (this.compareKeys(f, order[i - 1], order[i]) === 0) throw GIVE_UP;
    const len = this.o - bodyStart;
    const out = this.out;
    const [tmp, at] = this.scratch(bodyStart, len);
    // New offsets, member by member (a set's sort reads fields through them; order does not matter).
    const mS = f.mS;
    const vS = f.vS;
    const mE = f.mE;
    let o = bodyStart;
    let written = 0;
    for (let i = 0; i < m; i++) {
      const x = order[i];
      if (f.removed[x]) {
        mS[x] = vS[x] = mE[x] = o;
        continue;
      }
      if (written++ > 0) out[o++] = 0x2c;
      const from = mS[x] - bodyStart;
      const size = mE[x] - mS[x];
      const valueAt = vS[x] - mS[x];
      copyBytes(tmp, at + from, out, o, size);
      f.kE[x] = o + 1 + (f.kE[x] - f.kS[x]);
      f.kS[x] = o + 1;
      mS[x] = o;
      vS[x] = o + valueAt;
      o += size;
      mE[x] = o;
    }
    this.o = o;
  }

  array(depth: number, set: string[][] | undefined): void {
    if (depth >= MAX_DEPTH) throw GIVE_UP;
    const inp = this.inp;
    const bodyStart = this.o + 1;
    this.out[this.o++] = 0x5b;
    this.p++;
    this.ws();
    if (this.p < this.n && inp[this.p] === 0x5d) {
      this.p++;
      this.out[this.o++] = 0x5d;
      return;
    }
    if (set === undefined) {
      for (let i = 0; ; i++) {
        if (i > 0) this.out[this.o++] = 0x2c;
        this.value(depth + 1, undefined, undefined);
        if (!this.more(0x5d)) break;
      }
      this.out[this.o++] = 0x5d;
      return;
    }
    // A set: items are written in input order with their sort fields, then permuted if out of order.
    const sf = this.setFrame(depth);
    const nf = set.length;
    sf.nf = nf;
    let n = 0;
    for (;;) {
      if (n > 0) this.out[this.o++] = 0x2c;
      const s = this.o;
      this.value(depth + 1, undefined, undefined);
      sf.reserve(n + 1);
      sf.starts[n] = s;
      sf.ends[n] = this.o;
      // Sort fields now, while the item's frame still describes it.
      for (let g = 0; g < nf; g++) this.field(sf, n * nf + g, s, this.o, set[g], depth + 1);
      n++;
      if (!this.more(0x5d)) break;
    }
    sf.n = n;
    if (n > 1) this.sortSet(sf, bodyStart);
    this.out[this.o++] = 0x5d;
  }

  setFrame(depth: number): SetFrame {
    let f = this.setFrames[depth];
    if (f === undefined) {
      const sf = new SetFrame();
      sf.cmp = (a: number, b: number) => this.compareItems(sf, a, b);
      this.setFrames[depth] = f = sf;
    }
    return f;
  }

  /**
   * Sort field `slot` of the item just written at [s, e): normalize.ts's fieldGetter on canonical bytes —
   * a string as itself, a number or boolean as its JSON text, anything else ''. Stored as the byte range
   * of its UTF-8 text in the output, or (a string holding an escape) as a JS string.
   */
  field(sf: SetFrame, slot: number, s: number, e: number, segs: string[], depth: number): void {
    const out = this.out;
    sf.fStr[slot] = undefined;
    sf.fS[slot] = 0;
    sf.fE[slot] = 0;
    let vs = s;
    let ve = e;
    if (segs.length === 0) {
      if (out[s] === 0x22) this.setField(sf, slot, s, e);
      return;
    }
    let from = 0;
    if (out[s] === 0x7b) {
      // First segment from the item's own frame: no re-scan.
      const f = this.frame(depth);
      const want = segs[0];
      vs = -1;
      for (let i = 0; i < f.n; i++) {
        if (!f.removed[i] && this.keyIs(f, i, want)) {
          vs = f.vS[i];
          ve = f.mE[i];
          break;
        }
      }
      if (vs < 0) return;
      from = 1;
    }
    for (let i = from; i < segs.length; i++) {
      const r = this.navigate(vs, ve, segs[i]);
      if (r < 0) return;
      vs = r;
      ve = skipCanonical(out, r);
    }
    const c = out[vs];
    if (c === 0x22) this.setField(sf, slot, vs, ve);
    else if (c === 0x74 || c === 0x66 || c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      sf.fS[slot] = vs;
      sf.fE[slot] = ve;
    }
  }

  /** A canonical string at [s, e) (quotes included) as a field: its content bytes, unless escaped. */
  setField(sf: SetFrame, slot: number, s: number, e: number): void {
    const out = this.out;
    for (let i = s + 1; i < e - 1; i++) {
      if (out[i] === 0x5c) {
        sf.fStr[slot] = JSON.parse(out.toString('utf8', s, e)) as string;
        sf.fS[slot] = -1;
        return;
      }
    }
    sf.fS[slot] = s + 1;
    sf.fE[slot] = e - 1;
  }

  fieldString(sf: SetFrame, slot: number): string {
    const s = sf.fS[slot];
    return s < 0 ? sf.fStr[slot]! : this.out.toString('utf8', s, sf.fE[slot]);
  }

  /**
   * normalize.ts sortSet's order: fields in code-unit order one by one (the same order as its
   * U+0000-joined keys), then the items' canonical text.
   */
  compareItems(sf: SetFrame, a: number, b: number, from = 0): number {
    const nf = sf.nf;
    for (let g = from; g < nf; g++) {
      const sa = a * nf + g;
      const sb = b * nf + g;
      let c: number;
      if (sf.fS[sa] >= 0 && sf.fS[sb] >= 0) c = this.compareRanges(sf.fS[sa], sf.fE[sa], sf.fS[sb], sf.fE[sb]);
      else {
        const x = this.fieldString(sf, sa);
        const y = this.fieldString(sf, sb);
        c = x < y ? -1 : x > y ? 1 : 0;
      }
      if (c !== 0) return c;
    }
    return this.compareRanges(sf.starts[a], sf.ends[a], sf.starts[b], sf.ends[b]);
  }

  /** Code-unit order of the UTF-8 texts at two output ranges. */
  compareRanges(i: number, ie: number, j: number, je: number): number {
    const out = this.out;
    const i0 = i;
    const j0 = j;
    while (i < ie && j < je) {
      const x = out[i];
      const y = out[j];
      if (x !== y) {
        if (x >= 0xee || y >= 0xee) {
          const sa = out.toString('utf8', i0, ie);
          const sb = out.toString('utf8', j0, je);
          return sa < sb ? -1 : sa > sb ? 1 : 0;
        }
        return x - y;
      }
      i++;
      j++;
    }
    return ie - i - (je - j);
  }

  keyIs(f: Frame, i: number, want: string): boolean {
    if (f.esc[i]) return this.keyString(f, i) === want;
    if (f.kE[i] - f.kS[i] !== want.length) return false;
    const inp = this.inp;
    const s = f.kS[i];
    for (let j = 0; j < want.length; j++) if (inp[s + j] !== want.charCodeAt(j)) return false;
    return true;
  }

  /** A canonical string in the output at [s, e) (quotes included) as a JS string. */
  outString(s: number, e: number): string {
    const out = this.out;
    for (let i = s + 1; i < e - 1; i++) if (out[i] === 0x5c) return JSON.parse(out.toString('utf8', s, e)) as string;
    return out.toString('utf8', s + 1, e - 1);
  }

  /** Start of member `seg` (object) or element `seg` (array) of the canonical value at vs, or -1. */
  navigate(vs: number, ve: number, seg: string): number {
    const out = this.out;
    const c = out[vs];
    if (c === 0x7b) {
      let p = vs + 1;
      while (p < ve && out[p] === 0x22) {
        const ke = skipCanonical(out, p);
        const key = this.outString(p, ke);
        const v = ke + 1;
        if (key === seg) return v;
        p = skipCanonical(out, v);
        if (out[p] === 0x2c) p++;
        else break;
      }
      return -1;
    }
    if (c === 0x5b) {
      const idx = Number(seg);
      if (!Number.isInteger(idx) || idx < 0) return -1;
      let p = vs + 1;
      if (out[p] === 0x5d) return -1;
      for (let i = 0; p < ve; i++) {
        if (i === idx) return p;
        p = skipCanonical(out, p);
        if (out[p] === 0x2c) p++;
        else break;
      }
    }
    return -1;
  }

  sortSet(sf: SetFrame, bodyStart: number): void {
    const n = sf.n;
    let sorted = true;
    for (let j = 1; j < n; j++) {
      if (this.compareItems(sf, j - 1, j) > 0) {
        sorted = false;
        break;
      }
    }
    if (sorted) return;
    const order = sf.order;
    order.length = n;
    for (let j = 0; j < n; j++) order[j] = j;
    if (n > 32) {
      // Long sets (components, dependencies): the first field as a JS string, compared natively —
      // byte ranges share long prefixes (`pkg:deb/…`) a byte loop would walk on every comparison.
      // Fields one by one is the tuple order normalize.ts's joined keys give.
      const nf = sf.nf;
      const first = sf.keys;
      first.length = 0;
      for (let j = 0; j < n; j++) first.push(this.fieldString(sf, j * nf));
      order.sort((a, b) => {
        const x = first[a];
        const y = first[b];
        if (x !== y) return x < y ? -1 : 1;
        return this.compareItems(sf, a, b, 1);
      });
    } else order.sort(sf.cmp);
    const len = this.o - bodyStart;
    const out = this.out;
    const [tmp, at] = this.scratch(bodyStart, len);
    let o = bodyStart;
    const starts = sf.starts;
    const ends = sf.ends;
    for (let j = 0; j < n; j++) {
      if (j > 0) out[o++] = 0x2c;
      const x = order[j];
      const size = ends[x] - starts[x];
      copyBytes(tmp, at + starts[x] - bodyStart, out, o, size);
      o += size;
    }
    this.o = o;
  }
}

/** The items of the set array last written at one depth, with their sort fields. */
class SetFrame {
  n = 0;
  nf = 0;
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  /** Field slot (item × nf + field) → byte range of its text in the output; fS -1 = fStr holds it. */
  fS = new Int32Array(64);
  fE = new Int32Array(64);
  fStr: Array<string | undefined> = [];
  order: number[] = [];
  /** First sort field of each item as a string, while a long set sorts. */
  keys: string[] = [];
  cmp: (a: number, b: number) => number = () => 0;

  reserve(items: number): void {
    if (items > this.starts.length) {
      const size = Math.max(items, this.starts.length * 2);
      this.starts = grow(this.starts, size);
      this.ends = grow(this.ends, size);
    }
    const slots = items * this.nf;
    if (slots > this.fS.length) {
      const size = Math.max(slots, this.fS.length * 2);
      this.fS = grow(this.fS, size);
      this.fE = grow(this.fE, size);
    }
  }
}

function grow(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** End of the canonical JSON value starting at p (no whitespace, strings well formed). */
function skipCanonical(b: Buffer, p: number): number {
  const c = b[p];
  if (c === 0x22) {
    p++;
    for (;;) {
      const x = b[p];
      if (x === 0x22) return p + 1;
      p += x === 0x5c ? 2 : 1;
    }
  }
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (;;) {
      const x = b[p];
      if (x === 0x22) {
        p = skipCanonical(b, p);
        continue;
      }
      if (x === 0x7b || x === 0x5b) depth++;
      else if (x === 0x7d || x === 0x5d) {
        depth--;
        if (depth === 0) return p + 1;
      }
      p++;
    }
  }
  while (p < b.length) {
    const x = b[p];
    if (x === 0x2c || x === 0x5d || x === 0x7d) break;
    p++;
  }
  return p;
}

/** Small copies in a loop (a native call costs more than it saves on a few bytes). */
function copyBytes(src: Buffer, from: number, dst: Buffer, to: number, len: number): void {
  if (len <= 16) {
    for (let i = 0; i < len; i++) dst[to + i] = src[from + i];
  } else if (src === dst) src.copyWithin(to, from, from + len);
  else src.copy(dst, to, from, from + len);
}

/**
 * The schema detectSchema would pick, read from the root object's members without building them.
 * Stops at `"bomFormat": "CycloneDX"` (it wins whatever follows); null when the bytes look wrong.
 */
function detectFromBytes(w: Writer): FastSchema {
  const inp = w.inp;
  w.ws();
  if (w.p >= w.n || inp[w.p] !== 0x7b) return 'none';
  w.p++;
  let bomFormat: string | undefined;
  let context: string | undefined;
  let schemaTag: string | undefined;
  w.ws();
  if (inp[w.p] === 0x7d) return 'none';
  for (;;) {
    w.ws();
    if (inp[w.p] !== 0x22) throw GIVE_UP;
    const ks = w.p;
    const ke = w.stringEnd(ks);
    const key = inp.toString('utf8', ks + 1, ke).includes('\\') ? w.decodeEscaped(ks, ke) : inp.toString('utf8', ks + 1, ke);
    w.p = ke + 1;
    w.ws();
    if (inp[w.p] !== 0x3a) throw GIVE_UP;
    w.p++;
    w.ws();
    if ((key === 'bomFormat' || key === '@context' || key === 'schema') && inp[w.p] === 0x22) {
      const vs = w.p;
      const ve = w.stringEnd(vs);
      const v = w.decodeEscaped(vs, ve);
      w.p = ve + 1;
      if (key === 'bomFormat') {
        bomFormat = v;
        if (v === 'CycloneDX') return 'cyclonedx-1.6';
      } else if (key === '@context') context = v;
      else schemaTag = v;
    } else {
      if (key === 'bomFormat') bomFormat = undefined;
      else if (key === '@context') context = undefined;
      else if (key === 'schema') schemaTag = undefined;
      skipInput(w);
    }
    if (!w.more(0x7d)) break;
  }
  if (bomFormat === 'CycloneDX') return 'cyclonedx-1.6';
  if (context !== undefined && /^https?:\/\/openvex\.dev\/ns\b/.test(context)) return 'openvex-0.2.0';
  if (schemaTag === 'stella-findings/v1') return 'stella-findings-v1';
  if (schemaTag === 'stella-verdict/v1') return 'stella-verdict-v1';
  return 'none';
}

/** Skip one input value (not validated: the writing pass validates). */
function skipInput(w: Writer): void {
  const inp = w.inp;
  const n = w.n;
  let p = w.p;
  let depth = 0;
  while (p < n) {
    const c = inp[p];
    if (c === 0x22) {
      p = w.stringEnd(p) + 1;
      if (depth === 0) break;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) break;
      depth--;
      if (depth === 0) {
        p++;
        break;
      }
    } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) break;
    p++;
  }
  w.p = p;
}

export interface FastCanonical {
  schema: FastSchema;
  bytes: Buffer;
}

/**
 * Canonical bytes of a JSON document given as bytes, under `schema` (or the detected one for 'auto'),
 * or null when the fast pass gives up — then parse → normalize gives the answer or the error.
 */
export function canonicalFromBytes(choice: FastSchema | 'auto', bytes: Uint8Array): FastCanonical | null {
  const inp = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A BOM is stripped by the decoder on the slow path; invalid UTF-8 is its error to report.
  if ((inp[0] === 0xef && inp[1] === 0xbb && inp[2] === 0xbf) || firstInvalidUtf8(inp) < inp.length) return null;
  try {
    let schema: FastSchema;
    if (choice === 'auto') {
      const probe = new Writer(inp, FAST_RULES.get('none')!, false);
      schema = detectFromBytes(probe);
    } else schema = choice;
    const rules = FAST_RULES.get(schema);
    if (!rules) return null;
    const w = new Writer(inp, rules);
    w.ws();
    // An explicit schema needs an object; the slow path says so with the file name.
    if (schema !== 'none' && inp[w.p] !== 0x7b) return null;
    w.value(0, rules.volatileRoot, undefined);
    w.ws();
    if (w.p !== w.n) return null;
    return { schema, bytes: w.out.subarray(0, w.o) };
  } catch (e) {
    if (e === GIVE_UP || e instanceof RangeError) return null;
    throw e;
  }
}
