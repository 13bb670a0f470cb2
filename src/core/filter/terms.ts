// The searchable terms of a replay: vulnerability ids and their aliases, package names and purls,
// taken from its diff_summary (items, top list, evidence). The store indexes them at ingest so `/`
// finds `CVE-2024-47764`, `GHSA-pxg6-pf52-xh8x`, `cookie` or `pkg:npm/cookie@0.6.0` by prefix
// without reading a million summaries. Terms are lower-case; a query is lower-cased the same way.

/** Keys whose string values (or arrays of strings) name a vulnerability or a package. */
const TERM_KEYS = new Set(['vulnerability_id', 'vulnerability', 'aliases', 'purl', 'product', 'key']);
/** Inside evidence `records` (the feed records behind a finding), `id` is an advisory id too. */
const RECORD_KEYS = new Set(['records', 'added', 'removed', 'modified']);
/** A word that is a vulnerability id or purl is answered from the term index alone. */
const ID_LIKE = /^(cve|ghsa|go|pysec|rustsec|osv|gsd|debian|dsa|dla|usn|alsa|rhsa|mal)-|^pkg:/i;

export const MAX_TERM_LENGTH = 200;

/** `pkg:npm/%40scope/name@1.2.3?x#y` → `@scope/name` and `name`; a package key `npm/cookie` → `cookie`. */
export function packageNamesOf(s: string): string[] {
  let body = s.startsWith('pkg:') ? s.slice(4) : s;
  body = body.split(/[?#]/)[0];
  const at = body.lastIndexOf('@');
  if (at > 0 && body.lastIndexOf('/') < at) body = body.slice(0, at);
  const segs = body.split('/').filter(Boolean);
  if (segs.length < 2) return [];
  let decoded: string[];
  try {
    decoded = segs.map((x) => decodeURIComponent(x));
  } catch {
    decoded = segs;
  }
  const name = decoded[decoded.length - 1];
  const out = [name];
  if (decoded.length >= 3) out.push(decoded.slice(1).join('/'));
  return out;
}

export function searchTermsOf(summary: unknown): string[] {
  const out = new Set<string>();
  const add = (v: unknown, isPackage: boolean) => {
    if (typeof v !== 'string' || v === '' || v.length > MAX_TERM_LENGTH) return;
    out.add(v.toLowerCase());
    if (isPackage) for (const n of packageNamesOf(v)) out.add(n.toLowerCase());
  };
  const walk = (x: unknown, inRecords: boolean) => {
    if (Array.isArray(x)) {
      for (const y of x) walk(y, inRecords);
      return;
    }
    if (!x || typeof x !== 'object') return;
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
      if (TERM_KEYS.has(k) || (inRecords && k === 'id')) {
        const isPackage = k === 'purl' || k === 'key' || k === 'product';
        if (Array.isArray(v)) for (const s of v) add(s, isPackage);
        else add(v, isPackage);
      }
      if (v && typeof v === 'object') walk(v, RECORD_KEYS.has(k) || (inRecords && Array.isArray(v)));
    }
  };
  walk(summary, false);
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Does this free word name a vulnerability or purl (so only the term index can match it)? */
export function isIdLike(word: string): boolean {
  return ID_LIKE.test(word);
}

/** The half-open range [lo, hi) of terms that start with `prefix` (lower-cased), in code-unit order. */
export function prefixRange(prefix: string): [string, string] {
  const lo = prefix.toLowerCase();
  return [lo, lo + '\uffff'];
}
