// OSV records in YAML (pypa/advisory-database). Those files are written by PyYAML, which resolves plain
// scalars by YAML 1.1 rules — it quotes `'0.1'` but leaves timestamps bare — so we read them with the
// 1.1 schema too (a bare 1.10 would otherwise become the number 1.1). Timestamps are the exception: a JS
// Date keeps milliseconds only, and OSV's `modified: 2024-02-05T20:20:47.716944Z` must survive
// byte for byte, so the timestamp tag hands back the scalar's own text as an RFC 3339 string.
import { parseDocument, type ScalarTag } from 'yaml';
import { StellaError } from '../core/errors.js';

const TIMESTAMP_RE =
  /^(?<date>[0-9]{4}-[0-9]{1,2}-[0-9]{1,2})(?:(?:[Tt]|[ \t]+)(?<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)[ \t]*(?<zone>Z|[-+][0-9]{1,2}(?::?[0-9]{2})?)?)?$/;

function pad2(s: string): string {
  return s.length === 1 ? `0${s}` : s;
}

/** A YAML 1.1 timestamp as RFC 3339 text: `T` separator, zero-padded fields, `Z` when no zone is given. */
export function yamlTimestampToRfc3339(text: string): string {
  const m = TIMESTAMP_RE.exec(text);
  if (!m?.groups) return text;
  const [y, mo, d] = m.groups.date!.split('-') as [string, string, string];
  const date = `${y}-${pad2(mo)}-${pad2(d)}`;
  if (!m.groups.time) return date;
  const [h, rest] = [m.groups.time.split(':')[0]!, m.groups.time.slice(m.groups.time.indexOf(':'))];
  let zone = m.groups.zone ?? 'Z';
  if (zone !== 'Z') {
    const sign = zone[0]!;
    const digits = zone.slice(1).replace(':', '');
    zone = `${sign}${pad2(digits.slice(0, digits.length > 2 ? digits.length - 2 : digits.length))}:${digits.length > 2 ? digits.slice(-2) : '00'}`;
  }
  return `${date}T${pad2(h)}${rest}${zone}`;
}

const timestampAsString: ScalarTag = {
  tag: 'tag:yaml.org,2002:timestamp',
  default: true,
  test: TIMESTAMP_RE,
  resolve: (str: string) => yamlTimestampToRfc3339(str),
};

export function parseOsvYaml(text: string, file?: string): unknown {
  const doc = parseDocument(text, {
    schema: 'yaml-1.1',
    customTags: (tags) => [...tags.filter((t) => (t as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp'), timestampAsString],
    uniqueKeys: true,
    prettyErrors: false,
  });
  const err = doc.errors[0];
  if (err) throw yamlSyntaxError(text, err, file);
  return yamlToJs(doc, file);
}

/**
 * A parsed YAML document as plain values; what the yaml package throws while resolving (an alias to
 * an anchor defined later, too many aliases, nesting deep enough to exhaust the stack) becomes one line.
 */
export function yamlToJs(doc: { toJS(opts: { maxAliasCount: number }): unknown }, file?: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    const why = e instanceof RangeError ? 'the document nests too deeply' : String((e as Error)?.message ?? e).split('\n')[0];
    throw new StellaError('JSON_INVALID', `YAML cannot be resolved: ${why}`, { file });
  }
}

/** One-line YAML syntax error with the line and column of the problem. */
export function yamlSyntaxError(text: string, err: { pos: [number, number]; message: string }, file?: string): StellaError {
  const before = text.slice(0, err.pos[0]);
  const line = before.split('\n').length;
  const col = err.pos[0] - before.lastIndexOf('\n');
  return new StellaError('JSON_INVALID', `YAML syntax error at line ${line}, column ${col}: ${err.message.split('\n')[0]}`, { file });
}
