// Normalize (pure: a new sorted plain value, volatile fields removed) then serialize (RFC 8785 bytes):
// two steps, so callers can inspect the normalized value and the hash always comes from one path.
import { StellaError, isStellaError, jsonPath } from '../errors.js';
import { parseJsonBytes } from '../json/parse.js';
import { canonicalFromBytes } from './bytes.js';
import type { ArtifactSchema, Digest } from '../formats.js';
import {
  Unserializable,
  compareCodeUnits,
  isPlainObject,
  isScalar,
  mayBeIndexKey,
  setOwn,
  sha256Digest,
  unserializableError,
  wellFormed,
  writePrepared,
  type PrepareState,
} from './jcs.js';
import { RULES, type SchemaRules } from './rules.js';

export type SchemaChoice = ArtifactSchema | 'none';

/** A trie of root-anchored volatile paths: `true` = remove the value here. */
type VolatileTrie = { [key: string]: VolatileTrie | true };

interface CompiledRules {
  volatileRoot: VolatileTrie;
  volatileKeys: ReadonlySet<string>;
  /** Object key → field getters of the set stored under it. */
  sets: ReadonlyMap<string, ReadonlyArray<(item: unknown) => string>>;
}

function fieldGetter(field: string): (item: unknown) => string {
  if (field === '.') return (item) => (typeof item === 'string' ? item : '');
  const segs = field.split('.');
  return (item) => {
    let v: unknown = item;
    for (const s of segs) {
      if (v === null || typeof v !== 'object') return '';
      v = Array.isArray(v) ? v[Number(s)] : (v as Record<string, unknown>)[s];
    }
    // Numbers and booleans sort by their JSON text; objects/absent sort first and fall to the tie-breaker.
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return '';
  };
}

function compile(rules: SchemaRules): CompiledRules {
  // Null-prototype nodes: a document key like "constructor" must not find Object.prototype members.
  const volatileRoot: VolatileTrie = Object.create(null) as VolatileTrie;
  for (const p of rules.volatileAt) {
    let node = volatileRoot;
    p.forEach((seg, i) => {
      if (i === p.length - 1) node[seg] = true;
      else {
        const next = node[seg];
        node = next === undefined || next === true ? (node[seg] = Object.create(null) as VolatileTrie) : next;
      }
    });
  }
  const sets = new Map<string, Array<(item: unknown) => string>>();
  for (const [key, fields] of Object.entries(rules.sets)) sets.set(key, fields.map(fieldGetter));
  return { volatileRoot, volatileKeys: new Set(rules.volatileKeys), sets };
}

const COMPILED = new Map<ArtifactSchema, CompiledRules>(
  (Object.keys(RULES) as ArtifactSchema[]).map((s) => [s, compile(RULES[s])]),
);

/**
 * Sort a set-like array: by its fields in code-unit order, then by canonical bytes — a total order, so
 * any permutation of the same multiset yields the same sequence. Canonical text is computed only for
 * items whose fields tie.
 */
function sortSet(items: unknown[], getters: ReadonlyArray<(item: unknown) => string>, state: PrepareState): unknown[] {
  const n = items.length;
  if (n < 2) return items;
  // Fields joined with U+0000 compare exactly like the field tuple as long as no field contains U+0000
  // (a shorter field's separator sorts before any character the longer one continues with). One string
  // comparison per pair, and parallel arrays instead of an object per item: this sort dominates on
  // large SBOMs.
  let joinable = true;
  const keys = new Array<string>(n);
  for (let j = 0; j < n; j++) {
    let key = '';
    for (let i = 0; i < getters.length; i++) {
      const f = getters[i](items[j]);
      if (joinable && f.includes('\u0000')) joinable = false;
      key = i === 0 ? f : `${key}\u0000${f}`;
    }
    keys[j] = key;
  }
  const fields = joinable ? undefined : items.map((item) => getters.map((g) => g(item)));
  const canon = new Array<string | undefined>(n);
  const canonOf = (j: number): string => (canon[j] ??= writePrepared(items[j], state));
  const order = Array.from({ length: n }, (_, j) => j);
  order.sort((a, b) => {
    if (fields) {
      for (let i = 0; i < getters.length; i++) {
        const c = compareCodeUnits(fields[a][i], fields[b][i]);
        if (c !== 0) return c;
      }
    } else if (keys[a] !== keys[b]) {
      return keys[a] < keys[b] ? -1 : 1;
    }
    // Items are already normalized (validated, keys in order): write them directly.
    return compareCodeUnits(canonOf(a), canonOf(b));
  });
  // push, not new Array(n): a packed array keeps JSON.stringify on its fast path.
  const out: unknown[] = [];
  for (let j = 0; j < n; j++) out.push(items[order[j]]);
  return out;
}

/**
 * One validating pass: copies `v` with keys inserted in code-unit order (so native JSON.stringify can
 * write it), removes volatile keys, sorts set-like arrays. Children are normalized before their set is
 * sorted, so sort keys read normalized items.
 */
function normalizeValue(
  value: unknown,
  rules: CompiledRules,
  volatile: VolatileTrie | undefined,
  setGetters: ReadonlyArray<(item: unknown) => string> | undefined,
  state: NormalizeState,
  depth: number,
): unknown {
  if (isScalar(value)) return value;
  const v = value as object | null; // isScalar threw on anything else
  if (v === null) return null;
  // Parsed JSON has no cycles; a hand-built cyclic value stops here instead of overflowing the stack.
  if (depth > MAX_NORMALIZE_DEPTH) throw new Unserializable();
  if (Array.isArray(v)) {
    const n = v.length;
    // push, not new Array(n): a packed array keeps JSON.stringify on its fast path.
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      if (!(i in v)) throw new Unserializable();
      out.push(normalizeValue(v[i], rules, undefined, undefined, state, depth + 1));
    }
    return setGetters ? sortSet(out, setGetters, state) : out;
  }
  // Copying a Date or Map key by key would silently turn it into {}; report it instead.
  if (!isPlainObject(v) || Object.getOwnPropertySymbols(v).length > 0) throw new Unserializable();
  const src = v as Record<string, unknown>;
  const keys = sortedKeys(src, state.keyOrders);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (rules.volatileKeys.has(k)) continue;
    const vol = volatile?.[k];
    if (vol === true) continue;
    if (!wellFormed(k)) throw new Unserializable();
    if (mayBeIndexKey(k)) state.native = false;
    const child = src[k];
    setOwn(out, k, normalizeValue(child, rules, vol, Array.isArray(child) ? rules.sets.get(k) : undefined, state, depth + 1));
  }
  return out;
}

const MAX_NORMALIZE_DEPTH = 10_000;

interface NormalizeState extends PrepareState {
  /** First key → key lists seen in this document and their code-unit order. */
  keyOrders: Map<string, Array<{ keys: string[]; sorted: string[] }>>;
}

/**
 * Object.keys in code-unit order. Objects of one kind (components, hashes, …) arrive with the same key
 * list, so the sorted order is remembered per key list for the length of one document; JSON.parse
 * interns keys, so comparing lists is pointer comparisons.
 */
function sortedKeys(src: Record<string, unknown>, cache: NormalizeState['keyOrders']): string[] {
  const keys = Object.keys(src);
  if (keys.length < 2) return keys;
  let bucket = cache.get(keys[0]);
  if (bucket) {
    for (const e of bucket) {
      if (e.keys.length !== keys.length) continue;
      let same = true;
      for (let i = 1; i < keys.length; i++) {
        if (e.keys[i] !== keys[i]) {
          same = false;
          break;
        }
      }
      if (same) return e.sorted;
    }
  } else {
    bucket = [];
    cache.set(keys[0], bucket);
  }
  const sorted = [...keys].sort();
  // A few shapes per first key cover real documents; past that, sorting directly is as cheap as searching.
  if (bucket.length < 8) bucket.push({ keys, sorted });
  return sorted;
}

// `none`: plain JCS — nothing removed, no array sorted.
const NO_RULES = compile({ volatileAt: [], volatileKeys: [], sets: {} });

function normalizeInternal(schema: SchemaChoice, doc: unknown): { value: unknown; state: PrepareState } {
  const rules = schema === 'none' ? NO_RULES : COMPILED.get(schema);
  if (!rules) throw new StellaError('SCHEMA_INVALID', `unknown artifact schema '${String(schema)}'`, { path: '$' });
  const state: NormalizeState = { native: true, keyOrders: new Map() };
  const value = withInputPath(doc, () => normalizeValue(doc, rules, rules.volatileRoot, undefined, state, 0));
  return { value, state };
}

/**
 * The normalized value of an artifact: volatile fields removed and set-like arrays sorted per the rules
 * of `schema`. Pure: returns a new value and leaves `doc` untouched. `none` returns a key-sorted copy.
 */
export function normalizeArtifact(schema: SchemaChoice, doc: unknown): unknown {
  return normalizeInternal(schema, doc).value;
}

/**
 * Run `fn` over `doc`; when it meets a value JSON cannot carry, report that value's path in the INPUT
 * (sorting moves array items, so a path into the normalized value would point at the wrong index).
 */
function withInputPath<T>(doc: unknown, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const bad = e instanceof Unserializable || e instanceof RangeError || (e instanceof StellaError && e.code === 'SCHEMA_INVALID') ? unserializableError(doc) : null;
    throw bad ?? e;
  }
}

export interface Canonical {
  bytes: Buffer;
  digest: Digest;
}

function canonicalText(schema: SchemaChoice, doc: unknown): string {
  const { value, state } = normalizeInternal(schema, doc);
  return writePrepared(value, state);
}

/** Normalize then serialize: the canonical bytes of an artifact and their SHA-256 (the BF hash). */
export function canonicalizeArtifact(schema: SchemaChoice, doc: unknown): Canonical {
  const bytes = Buffer.from(canonicalText(schema, doc), 'utf8');
  return { bytes, digest: sha256Digest(bytes) };
}

/** Just the canonical hash, without keeping the bytes. */
export function canonicalArtifactDigest(schema: SchemaChoice, doc: unknown): Digest {
  return sha256Digest(canonicalText(schema, doc));
}

/** SHA-256 of the bytes as written (SPEC §1.3 "raw hash"). */
export function rawDigest(bytes: Uint8Array): Digest {
  return sha256Digest(bytes);
}

/**
 * Which rules apply to a parsed document: CycloneDX (any specVersion — the rules are the same for
 * 1.2–1.6), OpenVEX (any `@context` under openvex.dev), stella findings/verdict by their `schema` tag.
 */
export function detectSchema(doc: unknown): SchemaChoice {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'none';
  const d = doc as Record<string, unknown>;
  if (d.bomFormat === 'CycloneDX') return 'cyclonedx-1.6';
  const ctx = d['@context'];
  if (typeof ctx === 'string' && /^https?:\/\/openvex\.dev\/ns\b/.test(ctx)) return 'openvex-0.2.0';
  if (d.schema === 'stella-findings/v1') return 'stella-findings-v1';
  if (d.schema === 'stella-verdict/v1') return 'stella-verdict-v1';
  return 'none';
}

/** The `--schema` names the CLI accepts, mapped to rule sets. */
export const SCHEMA_ALIASES: Readonly<Record<string, SchemaChoice | 'auto'>> = {
  auto: 'auto',
  none: 'none',
  cyclonedx: 'cyclonedx-1.6',
  'cyclonedx-1.6': 'cyclonedx-1.6',
  openvex: 'openvex-0.2.0',
  'openvex-0.2.0': 'openvex-0.2.0',
  findings: 'stella-findings-v1',
  'stella-findings-v1': 'stella-findings-v1',
  verdict: 'stella-verdict-v1',
  'stella-verdict-v1': 'stella-verdict-v1',
};

/** Resolve a schema choice for a document; an explicit schema must fit the document's shape. */
export function resolveSchema(choice: SchemaChoice | 'auto', doc: unknown, file?: string): SchemaChoice {
  if (choice === 'auto') return detectSchema(doc);
  if (choice !== 'none' && (doc === null || typeof doc !== 'object' || Array.isArray(doc))) {
    throw new StellaError('SCHEMA_INVALID', `expected a JSON object for schema ${choice}`, { file, path: jsonPath([]) });
  }
  return choice;
}

export interface CanonicalOfBytes extends Canonical {
  /** The rules that were applied (the detected ones for 'auto'). */
  schema: SchemaChoice;
}

/**
 * Canonical bytes and hash of an artifact given as JSON bytes: the one-pass writer (bytes.ts) when it
 * can, else parse → normalize → serialize, which also produces every error (file and JSON path).
 * Both give the same bytes; the property test in test/canonical keeps them equal.
 */
export function canonicalizeArtifactBytes(choice: SchemaChoice | 'auto', bytes: Uint8Array, file?: string): CanonicalOfBytes {
  const fast = canonicalFromBytes(choice, bytes);
  if (fast) return { schema: fast.schema, bytes: fast.bytes, digest: sha256Digest(fast.bytes) };
  return canonicalizeArtifactBytesViaParse(choice, bytes, file);
}

/** The parse → normalize → serialize path (the oracle of the one-pass writer). */
export function canonicalizeArtifactBytesViaParse(choice: SchemaChoice | 'auto', bytes: Uint8Array, file?: string): CanonicalOfBytes {
  const doc = parseJsonBytes(bytes, file);
  const schema = resolveSchema(choice, doc, file);
  try {
    return { schema, ...canonicalizeArtifact(schema, doc) };
  } catch (e) {
    throw isStellaError(e) && file !== undefined ? e.withFile(file) : e;
  }
}
