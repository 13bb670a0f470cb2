// The TOML subset lockfiles use: `[[array.of.tables]]`, `[tables]`, `key = value` with basic/literal
// strings, numbers, booleans and (multi-line) arrays of those or of inline tables. Enough for
// poetry.lock and Cargo.lock; anything else fails with the line number.
import { badInput } from './common.js';

export type TomlValue = string | number | boolean | TomlValue[] | { [k: string]: TomlValue };

export interface TomlTable {
  /** Header as written, e.g. `package` for `[[package]]`, `package.extras` for `[package.extras]`. */
  header: string;
  arrayOfTables: boolean;
  /** 1-based line of the header (0 for the top-level table). */
  line: number;
  values: Record<string, TomlValue>;
}

export function parseTomlTables(text: string, file: string): TomlTable[] {
  const tables: TomlTable[] = [{ header: '', arrayOfTables: false, line: 0, values: {} }];
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (msg: string): never => {
    throw badInput(msg, file, line);
  };
  const skipWsComments = (newlines: boolean): void => {
    while (i < n) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\r') i++;
      else if (c === '#') while (i < n && text[i] !== '\n') i++;
      else if (c === '\n' && newlines) {
        i++;
        line++;
      } else break;
    }
  };
  const basicString = (): string => {
    i++;
    let out = '';
    while (i < n && text[i] !== '"') {
      if (text[i] === '\n') fail('unterminated string');
      if (text[i] === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8;
          const hex = text.slice(i + 2, i + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('bad unicode escape');
          out += String.fromCodePoint(parseInt(hex, 16));
          i += 2 + len;
        } else fail(`bad escape \\${e}`);
      } else out += text[i++];
    }
    if (i >= n) fail('unterminated string');
    i++;
    return out;
  };
  const multilineString = (quote: string): string => {
    i += 3;
    if (text[i] === '\n') {
      i++;
      line++;
    }
    const end = text.indexOf(quote.repeat(3), i);
    if (end < 0) fail('unterminated multi-line string');
    const s = text.slice(i, end);
    line += s.split('\n').length - 1;
    i = end + 3;
    return s;
  };
  const value = (): TomlValue => {
    if (i >= n) fail('unexpected end of file (a value is missing)');
    const c = text[i];
    if (text.startsWith('"""', i)) return multilineString('"');
    if (text.startsWith("'''", i)) return multilineString("'");
    if (c === '"') return basicString();
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0 || text.slice(i, end).includes('\n')) fail('unterminated literal string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '[') {
      i++;
      const arr: TomlValue[] = [];
      for (;;) {
        skipWsComments(true);
        if (text[i] === ']') {
          i++;
          return arr;
        }
        arr.push(value());
        skipWsComments(true);
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail(`expected ',' or ']' in array, found ${JSON.stringify(text[i] ?? 'end of file')}`);
      }
    }
    if (c === '{') {
      i++;
      const obj: Record<string, TomlValue> = {};
      skipWsComments(false);
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skipWsComments(false);
        const k = key();
        skipWsComments(false);
        if (text[i] !== '=') fail("expected '=' in inline table");
        i++;
        skipWsComments(false);
        obj[k] = value();
        skipWsComments(false);
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail(`expected ',' or '}' in inline table`);
      }
    }
    const m = /^(true|false|[+-]?[0-9][0-9_]*(\.[0-9_]+)?([eE][+-]?[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2}[0-9T:.Z+-]*)/.exec(text.slice(i, i + 64));
    if (!m) fail(`unsupported value ${JSON.stringify(text.slice(i, i + 20))}`);
    i += m![0].length;
    if (m![0] === 'true' || m![0] === 'false') return m![0] === 'true';
    return /^[0-9]{4}-/.test(m![0]) ? m![0] : Number(m![0].replace(/_/g, ''));
  };
  const key = (): string => {
    const parts: string[] = [];
    for (;;) {
      skipWsComments(false);
      if (text[i] === '"') parts.push(basicString());
      else if (text[i] === "'") parts.push(value() as string);
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
        if (!m) fail(`expected a key, found ${JSON.stringify(text[i] ?? 'end of file')}`);
        parts.push(m![0]);
        i += m![0].length;
      }
      skipWsComments(false);
      if (text[i] !== '.') break;
      i++;
    }
    return parts.join('.');
  };
  for (;;) {
    skipWsComments(true);
    if (i >= n) break;
    if (text[i] === '[') {
      const aot = text[i + 1] === '[';
      i += aot ? 2 : 1;
      const header = key();
      if (text[i] !== ']' || (aot && text[i + 1] !== ']')) fail('malformed table header');
      i += aot ? 2 : 1;
      tables.push({ header, arrayOfTables: aot, line, values: {} });
    } else {
      const k = key();
      if (text[i] !== '=') fail(`expected '=' after key ${JSON.stringify(k)}`);
      i++;
      skipWsComments(false);
      tables[tables.length - 1].values[k] = value();
    }
    skipWsComments(false);
    if (i < n && text[i] !== '\n') fail(`unexpected ${JSON.stringify(text[i])} after value`);
  }
  return tables;
}
